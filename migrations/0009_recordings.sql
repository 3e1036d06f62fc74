-- 0009: call recordings and voicemail messages, as part of a call's history.
--
-- History. call_recordings gets one row per file the media engine's recorder finished
-- (engine/media/recorder.h): a recorded call (sip.media.recording, from the bridge to the
-- end) or a voicemail message (sip.media.voicemail). The engine writes it through the
-- record spool like the rest of the history (record format 3, engine/store/record_codec.h),
-- so it reaches the database even when the database was down when the file was finished.
-- The row is keyed by (call_id, path): a replay of the spool inserts nothing twice. The
-- primary key's index serves lookups by call_id (a call's files: WHERE call_id = ...).
-- A file that could not be written still gets its row, with ok false and the error.
--
-- 0002's recordings and voicemails tables were never written by the engine; they stay
-- as they are, empty.
--
-- There is no CHECK on mode: a new mode in a newer engine must never make the record
-- shipper's COPY fail (it would retry the batch for ever). kind is fixed by what the
-- engine records.
--
-- Reports. Nothing changes; a call's files, for example:
--   SELECT c.call_id, c.agent, r.kind, r.path, r.duration_ms
--   FROM calls c JOIN call_recordings r USING (call_id)
--   WHERE c.tenant = 'acme' AND c.arrived_at >= '2024-05-01' AND c.arrived_at < '2024-05-02'
--     AND r.ok;

CREATE TABLE call_recordings (
  call_id      bigint NOT NULL,
  path         text NOT NULL,    -- the WAV file (8 kHz, 16-bit), as the engine wrote it
  run_id       bigint NOT NULL,  -- the daemon run that recorded it
  kind         text NOT NULL CHECK (kind IN ('call', 'voicemail')),
  mode         text NOT NULL,    -- call: 'stereo' (caller left, far end right) or 'mixed'
                                 -- (one channel); voicemail: 'mono'
  mailbox      text,             -- voicemail: the mailbox the message was left in
  duration_ms  bigint NOT NULL CHECK (duration_ms >= 0),  -- the audio in the file; paused
                                                          -- stretches are not in it
  started_at   timestamptz NOT NULL,  -- the file was opened
  ended_at     timestamptz NOT NULL,  -- the file was complete
  ok           boolean NOT NULL,      -- false: the file could not be (fully) written
  error        text,                  -- why not; NULL when ok
  PRIMARY KEY (call_id, path)
);
