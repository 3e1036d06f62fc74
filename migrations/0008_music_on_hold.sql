-- 0008: the music on hold a queue's waiting callers hear (core::QueueConfig::music_on_hold,
-- the queue key `music_on_hold` of config/acdd.yaml).
--
-- Queues. music_on_hold names a music-on-hold class: the classes themselves (a name, a
-- file or directory of audio, a mode) are daemon-level settings of the file's
-- `sip.media.music_on_hold`, like the rest of `sip:` not in the database, so there is no
-- foreign key: the loader checks the name against the daemon file's classes when a file
-- is applied (`acdd config apply FILE --config DAEMONFILE`). '' (the default, and every
-- queue written before this migration): the daemon's first class.
--
-- Reports. Nothing changes.

ALTER TABLE queues
  ADD COLUMN music_on_hold text NOT NULL DEFAULT ''
    CHECK (music_on_hold = '' OR music_on_hold ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$');
