// Human-readable names of the core's enums, used in logs, events and error messages.
#include "engine/core/call_control.h"
#include "engine/core/events.h"
#include "engine/core/model.h"
#include "engine/core/task.h"

namespace acd::core {

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::kLongestIdle: return "longest-idle";
    case Strategy::kLeastTalkTime: return "least-talk-time";
    case Strategy::kFewestCalls: return "fewest-calls";
    case Strategy::kRoundRobin: return "round-robin";
    case Strategy::kTopDown: return "top-down";
    case Strategy::kRingAll: return "ring-all";
    case Strategy::kRandom: return "random";
    case Strategy::kWeightedRandom: return "weighted-random";
    case Strategy::kBestProficiency: return "best-proficiency";
  }
  return "?";
}

const char* to_string(ExitDestination::Kind k) {
  switch (k) {
    case ExitDestination::Kind::kHangup: return "hangup";
    case ExitDestination::Kind::kQueue: return "queue";
    case ExitDestination::Kind::kVoicemail: return "voicemail";
    case ExitDestination::Kind::kCallback: return "callback";
  }
  return "?";
}

const char* to_string(RonaPolicy p) {
  switch (p) {
    case RonaPolicy::kNotReady: return "not-ready";
    case RonaPolicy::kReady: return "ready";
    case RonaPolicy::kLogout: return "logout";
  }
  return "?";
}

const char* to_string(OfferEndReason r) {
  switch (r) {
    case OfferEndReason::kNoAnswer: return "no-answer";
    case OfferEndReason::kBusy: return "busy";
    case OfferEndReason::kDeclined: return "declined";
    case OfferEndReason::kFailed: return "failed";
    case OfferEndReason::kAnsweredElsewhere: return "answered-elsewhere";
    case OfferEndReason::kCallerGone: return "caller-gone";
    case OfferEndReason::kWithdrawn: return "withdrawn";
  }
  return "?";
}

const char* to_string(ExitReason r) {
  switch (r) {
    case ExitReason::kMaxWait: return "max-wait";
    case ExitReason::kQueueFull: return "queue-full";
    case ExitReason::kNoAgents: return "no-agents";
    case ExitReason::kQueueClosed: return "queue-closed";
    case ExitReason::kCallerRequest: return "caller-request";
  }
  return "?";
}

const char* to_string(FinalState s) {
  switch (s) {
    case FinalState::kCompleted: return "completed";
    case FinalState::kAbandoned: return "abandoned";
    case FinalState::kVoicemail: return "voicemail";
    case FinalState::kCallback: return "callback";
    case FinalState::kHungUp: return "hung-up";
    case FinalState::kCancelled: return "cancelled";
    case FinalState::kUnanswered: return "unanswered";
    case FinalState::kTransferred: return "transferred";
  }
  return "?";
}

const char* to_string(HangupCause c) {
  switch (c) {
    case HangupCause::kUnspecified: return "unspecified";
    case HangupCause::kCallerCancel: return "caller-cancel";
    case HangupCause::kCallerBye: return "caller-bye";
    case HangupCause::kAgentBye: return "agent-bye";
    case HangupCause::kCallerNoAck: return "caller-no-ack";
    case HangupCause::kSessionExpired: return "session-expired";
    case HangupCause::kMediaTimeout: return "media-timeout";
    case HangupCause::kQueueExit: return "queue-exit";
    case HangupCause::kTransfer: return "transfer";
    case HangupCause::kDialFailed: return "dial-failed";
    case HangupCause::kSystem: return "system";
    case HangupCause::kAgentRelease: return "agent-release";
    case HangupCause::kSupervisorRelease: return "supervisor-release";
    case HangupCause::kIvr: return "ivr";
  }
  return "?";
}

const char* to_string(CallAction a) {
  switch (a) {
    case CallAction::kHold: return "hold";
    case CallAction::kRetrieve: return "retrieve";
    case CallAction::kHangUp: return "hang-up";
    case CallAction::kPauseRecording: return "pause-recording";
    case CallAction::kResumeRecording: return "resume-recording";
    case CallAction::kTransfer: return "transfer";
    case CallAction::kMonitor: return "monitor";
    case CallAction::kWhisper: return "whisper";
    case CallAction::kBarge: return "barge";
    case CallAction::kIntercept: return "intercept";
    case CallAction::kConsult: return "consult";
    case CallAction::kCompleteTransfer: return "complete-transfer";
    case CallAction::kConference: return "conference";
    case CallAction::kCancelConsult: return "cancel-consult";
    case CallAction::kDial: return "dial";
  }
  return "?";
}

const char* to_string(AlertKind k) {
  switch (k) {
    case AlertKind::kBreakOverrun: return "break-overrun";
  }
  return "?";
}

const char* to_string(CallTransferred::Kind k) {
  switch (k) {
    case CallTransferred::Kind::kQueue: return "queue";
    case CallTransferred::Kind::kExternal: return "external";
    case CallTransferred::Kind::kAttended: return "attended";
  }
  return "?";
}

const char* to_string(Channel c) {
  switch (c) {
    case Channel::kChat: return "chat";
    case Channel::kEmail: return "email";
    case Channel::kSms: return "sms";
    case Channel::kWebForm: return "web-form";
    case Channel::kCallback: return "callback";
  }
  return "?";
}

std::optional<Channel> parse_channel(std::string_view text) {
  for (std::size_t i = 0; i < kChannelCount; ++i) {
    const auto c = static_cast<Channel>(i);
    if (text == to_string(c)) return c;
  }
  return std::nullopt;
}

const char* to_string(TaskPhase p) {
  switch (p) {
    case TaskPhase::kWaiting: return "waiting";
    case TaskPhase::kOffered: return "offered";
    case TaskPhase::kAccepted: return "accepted";
  }
  return "?";
}

const char* to_string(TaskFinalState s) {
  switch (s) {
    case TaskFinalState::kCompleted: return "completed";
    case TaskFinalState::kAbandoned: return "abandoned";
    case TaskFinalState::kCancelled: return "cancelled";
  }
  return "?";
}

}  // namespace acd::core
