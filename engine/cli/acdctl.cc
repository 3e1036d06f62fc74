// acdctl: the command-line client of acdd's gRPC API (proto/acd/v1).
//
//   acdctl [--server host:port] [--token T | --token-file F] [--json] <group> <command> ...
//
// The server and token also come from ACD_SERVER and ACD_TOKEN. Output is for people by
// default; --json prints each answer (and each streamed message) as one JSON line.
// `acdctl top` is a live wallboard fed by the supervisor watch streams.
// Exit status: 0 done; 1 the server refused or failed (its code and message on stderr);
// 2 a usage error.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "acd/v1/agent_service.grpc.pb.h"
#include "acd/v1/supervisor_service.grpc.pb.h"
#include "engine/cli/format.h"

namespace acd::cli {
namespace {

namespace v1 = acd::v1;
using namespace std::chrono_literals;

struct Options {
  std::string server;
  std::string token;
  std::string token_file;
  bool json = false;
  int timeout_seconds = 30;
};

// Thrown for a refused or failed call: main prints it and exits 1.
struct CallFailed {
  std::string what;
};

std::string code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    default: return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

std::string json_of(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok())
    return "{\"error\":\"unprintable message\"}";
  return out;
}

class Client {
 public:
  explicit Client(Options options) : options_(std::move(options)) {
    channel_ = grpc::CreateChannel(options_.server, grpc::InsecureChannelCredentials());
    agents_ = v1::AgentService::NewStub(channel_);
    supervisor_ = v1::SupervisorService::NewStub(channel_);
  }

  // A context with the token and, for unary calls, the deadline.
  std::unique_ptr<grpc::ClientContext> context(bool streaming = false) const {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!streaming)
      c->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(options_.timeout_seconds));
    if (!options_.token.empty()) c->AddMetadata("authorization", "Bearer " + options_.token);
    return c;
  }

  template <class Stub, class Request, class Response>
  Response call(Stub& stub,
                grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                const Request& request, std::string_view name) const {
    Response response;
    auto c = context();
    const grpc::Status status = (stub.*rpc)(c.get(), request, &response);
    if (!status.ok()) fail(name, status);
    return response;
  }

  [[noreturn]] void fail(std::string_view name, const grpc::Status& status) const {
    throw CallFailed{std::string(name) + ": " + code_name(status.error_code()) + ": " +
                     status.error_message()};
  }

  v1::AgentService::Stub& agents() { return *agents_; }
  v1::SupervisorService::Stub& supervisor() { return *supervisor_; }
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> agents_;
  std::unique_ptr<v1::SupervisorService::Stub> supervisor_;
};

void print_status(const Client& client, const v1::AgentStatus& status) {
  std::cout << (client.options().json ? json_of(status) : agent_line(status)) << std::endl;
}

// Reads a server stream to its end (or `count` messages), printing each message.
template <class Message, class Print>
void follow(Client& client, std::unique_ptr<grpc::ClientContext> context,
            std::unique_ptr<grpc::ClientReader<Message>> reader, int count, Print print,
            std::string_view name) {
  Message message;
  int seen = 0;
  while (reader->Read(&message)) {
    if (client.options().json)
      std::cout << json_of(message) << std::endl;
    else
      print(message);
    if (count > 0 && ++seen >= count) {
      context->TryCancel();
      reader->Finish();
      return;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) client.fail(name, status);
}

// ---- acdctl top ----

// The terminal in raw mode on the alternate screen while the wallboard runs.
class Terminal {
 public:
  Terminal() : interactive_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
    if (!interactive_) return;
    tcgetattr(STDIN_FILENO, &saved_);
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    std::cout << "\x1b[?1049h\x1b[?25l" << std::flush;
  }
  ~Terminal() {
    if (!interactive_) return;
    std::cout << "\x1b[?25h\x1b[?1049l" << std::flush;
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  [[nodiscard]] bool interactive() const { return interactive_; }
  static std::pair<int, int> size() {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
      return {ws.ws_col, ws.ws_row};
    return {100, 40};
  }

 private:
  bool interactive_;
  termios saved_{};
};

class Top {
 public:
  explicit Top(Client& client) : client_(client) {}

  int run(int frames) {
    Terminal terminal;
    std::thread queues([this] { watch_queues(); });
    std::thread agents([this] { watch_agents(); });
    std::thread keys;
    if (terminal.interactive()) keys = std::thread([this] { read_keys(); });
    int drawn = 0;
    {
      std::unique_lock lock(mutex_);
      while (!quit_) {
        // Redraw on every update, and each second so that waiting times move on.
        changed_.wait_for(lock, 1s, [this] { return quit_ || dirty_; });
        if (quit_) break;
        dirty_ = false;
        const auto [width, height] = Terminal::size();
        std::string title = "acd top  " + client_.options().server;
        if (!problem_.empty()) title += "  [" + problem_ + "]";
        const std::string screen =
            board_.render(std::chrono::system_clock::now(), width, height - 1, title);
        lock.unlock();
        std::cout << "\x1b[H\x1b[2J" << screen << std::flush;
        lock.lock();
        if (frames > 0 && ++drawn >= frames) quit_ = true;
      }
    }
    stop();
    queues.join();
    agents.join();
    if (keys.joinable()) keys.detach();  // blocked in read(); ends with the process
    return 0;
  }

 private:
  template <class Message, class Open>
  void watch(Open open) {
    auto backoff = 1s;
    for (;;) {
      auto context = client_.context(/*streaming=*/true);
      {
        std::lock_guard lock(mutex_);
        if (quit_) return;
        contexts_.push_back(context.get());
      }
      auto reader = open(context.get());
      Message message;
      while (reader->Read(&message)) {
        std::lock_guard lock(mutex_);
        board_.apply(message);
        problem_.clear();
        dirty_ = true;
        backoff = 1s;
        changed_.notify_all();
      }
      const grpc::Status status = reader->Finish();
      std::unique_lock lock(mutex_);
      std::erase(contexts_, context.get());
      if (quit_) return;
      problem_ = code_name(status.error_code()) + ": " + status.error_message();
      dirty_ = true;
      changed_.notify_all();
      // Refusals do not heal by waiting: show them and stop.
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
          status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
        return;
      changed_.wait_for(lock, backoff, [this] { return quit_; });
      backoff = std::min<std::chrono::seconds>(backoff * 2, 10s);
    }
  }
  void watch_queues() {
    watch<v1::QueueUpdate>([this](grpc::ClientContext* c) {
      return client_.supervisor().WatchQueues(c, v1::WatchQueuesRequest{});
    });
  }
  void watch_agents() {
    watch<v1::AgentUpdate>([this](grpc::ClientContext* c) {
      return client_.supervisor().WatchAgents(c, v1::WatchAgentsRequest{});
    });
  }
  void read_keys() {
    char c = 0;
    while (::read(STDIN_FILENO, &c, 1) == 1) {
      if (c == 'q' || c == 'Q' || c == 3 /* Ctrl-C in raw mode */) break;
      if (c == 'r' || c == 12 /* Ctrl-L */) {
        std::lock_guard lock(mutex_);
        dirty_ = true;
        changed_.notify_all();
      }
    }
    std::lock_guard lock(mutex_);
    quit_ = true;
    changed_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    quit_ = true;
    for (auto* c : contexts_) c->TryCancel();
    changed_.notify_all();
  }

  Client& client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Wallboard board_;
  std::string problem_;
  bool dirty_ = false;
  bool quit_ = false;
  std::vector<grpc::ClientContext*> contexts_;
};

// ---- Commands ----

int run(int argc, char** argv) {
  CLI::App app{"acdctl: the command-line client of the acd engine (gRPC API)"};
  app.require_subcommand(1);
  Options options;
  const char* env_server = std::getenv("ACD_SERVER");
  const char* env_token = std::getenv("ACD_TOKEN");
  options.server = env_server != nullptr ? env_server : "127.0.0.1:50051";
  options.token = env_token != nullptr ? env_token : "";
  app.add_option("--server,-s", options.server, "host:port of acdd's API (env ACD_SERVER)");
  app.add_option("--token,-t", options.token, "bearer token (env ACD_TOKEN)");
  app.add_option("--token-file", options.token_file, "read the bearer token from this file");
  app.add_flag("--json,-j", options.json, "print answers and events as JSON lines");
  app.add_option("--timeout", options.timeout_seconds, "seconds to wait for an answer")
      ->check(CLI::Range(1, 3600));

  std::function<void(Client&)> action;
  auto on = [&action](CLI::App* command, std::function<void(Client&)> body) {
    command->callback([&action, body = std::move(body)] { action = body; });
  };

  // agent: the caller's own session (agent role).
  auto* agent = app.add_subcommand("agent", "your own agent session")->require_subcommand(1);
  bool ready_now = false;
  auto* login = agent->add_subcommand("login", "log in (NotReady, or Ready with --ready)");
  login->add_flag("--ready", ready_now, "Ready at once");
  on(login, [&](Client& c) {
    v1::LoginRequest r;
    r.set_ready(ready_now);
    print_status(c, c.call(c.agents(), &v1::AgentService::Stub::Login, r, "login"));
  });
  on(agent->add_subcommand("logout", "log out"), [](Client& c) {
    print_status(
        c, c.call(c.agents(), &v1::AgentService::Stub::Logout, v1::LogoutRequest{}, "logout"));
  });
  on(agent->add_subcommand("ready", "become Ready"), [](Client& c) {
    print_status(
        c, c.call(c.agents(), &v1::AgentService::Stub::SetReady, v1::SetReadyRequest{}, "ready"));
  });
  std::string reason;
  auto* not_ready = agent->add_subcommand("not-ready", "become NotReady with a reason code");
  not_ready->add_option("reason", reason, "a reason code of your tenant")->required();
  on(not_ready, [&](Client& c) {
    v1::SetNotReadyRequest r;
    r.set_reason(reason);
    print_status(c, c.call(c.agents(), &v1::AgentService::Stub::SetNotReady, r, "not-ready"));
  });
  on(agent->add_subcommand("end-wrap-up", "end after-call work now"), [](Client& c) {
    print_status(c, c.call(c.agents(), &v1::AgentService::Stub::EndWrapUp, v1::EndWrapUpRequest{},
                           "end-wrap-up"));
  });
  std::string mode;
  auto* work_mode = agent->add_subcommand("work-mode", "what the end of wrap-up leads to");
  work_mode->add_option("mode", mode, "auto (Ready) or manual (NotReady)")
      ->required()
      ->check(CLI::IsMember({"auto", "manual"}));
  on(work_mode, [&](Client& c) {
    v1::SetWorkModeRequest r;
    r.set_mode(mode == "manual" ? v1::WORK_MODE_MANUAL : v1::WORK_MODE_AUTO_READY);
    print_status(c, c.call(c.agents(), &v1::AgentService::Stub::SetWorkMode, r, "work-mode"));
  });
  on(agent->add_subcommand("status", "your state now"), [](Client& c) {
    print_status(c, c.call(c.agents(), &v1::AgentService::Stub::GetStatus, v1::GetStatusRequest{},
                           "status"));
  });
  int count = 0;
  auto* events = agent->add_subcommand("events", "follow your events (offers, states, calls)");
  events->add_option("--count", count, "stop after this many events");
  on(events, [&](Client& c) {
    auto context = c.context(true);
    auto reader = c.agents().StreamEvents(context.get(), v1::StreamEventsRequest{});
    follow(
        c, std::move(context), std::move(reader), count,
        [](const v1::AgentEvent& e) { std::cout << event_line(e) << std::endl; }, "events");
  });

  // queue: the tenant's queues (supervisor, admin, read-only).
  auto* queue = app.add_subcommand("queue", "your tenant's queues")->require_subcommand(1);
  std::vector<std::string> names;
  auto* queue_list = queue->add_subcommand("list", "the queues' figures now");
  queue_list->add_option("queues", names, "queue names (default: all)");
  on(queue_list, [&](Client& c) {
    v1::WatchQueuesRequest r;
    for (const auto& n : names) r.add_queues(n);
    const auto update =
        c.call(c.supervisor(), &v1::SupervisorService::Stub::ListQueues, r, "queue list");
    if (c.options().json)
      std::cout << json_of(update) << std::endl;
    else
      std::cout << queue_table(update, std::chrono::system_clock::now());
  });
  auto* queue_watch = queue->add_subcommand("watch", "follow the queues' figures");
  queue_watch->add_option("queues", names, "queue names (default: all)");
  queue_watch->add_option("--count", count, "stop after this many updates");
  on(queue_watch, [&](Client& c) {
    v1::WatchQueuesRequest r;
    for (const auto& n : names) r.add_queues(n);
    auto context = c.context(true);
    auto reader = c.supervisor().WatchQueues(context.get(), r);
    follow(
        c, std::move(context), std::move(reader), count,
        [](const v1::QueueUpdate& u) {
          std::cout << queue_table(u, std::chrono::system_clock::now()) << std::endl;
        },
        "queue watch");
  });

  // agents: the tenant's agents (watching: supervisor, admin, read-only; commands:
  // supervisor, admin).
  auto* agents = app.add_subcommand("agents", "your tenant's agents")->require_subcommand(1);
  auto* agents_list = agents->add_subcommand("list", "the agents' states now");
  agents_list->add_option("agents", names, "agent names (default: all)");
  on(agents_list, [&](Client& c) {
    v1::WatchAgentsRequest r;
    for (const auto& n : names) r.add_agents(n);
    const auto update =
        c.call(c.supervisor(), &v1::SupervisorService::Stub::ListAgents, r, "agents list");
    if (c.options().json)
      std::cout << json_of(update) << std::endl;
    else
      std::cout << agent_table(update, std::chrono::system_clock::now());
  });
  auto* agents_watch = agents->add_subcommand("watch", "follow the agents' state changes");
  agents_watch->add_option("agents", names, "agent names (default: all)");
  agents_watch->add_option("--count", count, "stop after this many updates");
  on(agents_watch, [&](Client& c) {
    v1::WatchAgentsRequest r;
    for (const auto& n : names) r.add_agents(n);
    auto context = c.context(true);
    auto reader = c.supervisor().WatchAgents(context.get(), r);
    follow(
        c, std::move(context), std::move(reader), count,
        [](const v1::AgentUpdate& u) {
          for (const auto& a : u.agents()) std::cout << agent_line(a) << std::endl;
        },
        "agents watch");
  });
  std::string target;
  auto* force_ready = agents->add_subcommand("force-ready", "make an agent Ready");
  force_ready->add_option("agent", target, "agent name")->required();
  on(force_ready, [&](Client& c) {
    v1::ForceReadyRequest r;
    r.set_agent(target);
    print_status(
        c, c.call(c.supervisor(), &v1::SupervisorService::Stub::ForceReady, r, "force-ready"));
  });
  auto* force_not_ready = agents->add_subcommand("force-not-ready", "make an agent NotReady");
  force_not_ready->add_option("agent", target, "agent name")->required();
  force_not_ready->add_option("reason", reason, "a reason code of the tenant")->required();
  on(force_not_ready, [&](Client& c) {
    v1::ForceNotReadyRequest r;
    r.set_agent(target);
    r.set_reason(reason);
    print_status(c, c.call(c.supervisor(), &v1::SupervisorService::Stub::ForceNotReady, r,
                           "force-not-ready"));
  });
  auto* force_logout = agents->add_subcommand("force-logout", "log an agent out");
  force_logout->add_option("agent", target, "agent name")->required();
  on(force_logout, [&](Client& c) {
    v1::ForceLogoutRequest r;
    r.set_agent(target);
    print_status(
        c, c.call(c.supervisor(), &v1::SupervisorService::Stub::ForceLogout, r, "force-logout"));
  });
  std::vector<std::string> skill_levels;
  auto* set_skills = agents->add_subcommand("set-skills", "replace an agent's skills");
  set_skills->add_option("agent", target, "agent name")->required();
  set_skills->add_option("skills", skill_levels, "skill=level (1-10) ...; none: no skills");
  on(set_skills, [&](Client& c) {
    v1::SetAgentSkillsRequest r;
    r.set_agent(target);
    for (const auto& entry : skill_levels) {
      const auto eq = entry.find('=');
      int level = 0;
      if (eq == std::string::npos || eq == 0 ||
          !CLI::detail::lexical_cast(entry.substr(eq + 1), level))
        throw CLI::ValidationError("skills", "expected skill=level, got \"" + entry + "\"");
      auto* s = r.add_skills();
      s->set_skill(entry.substr(0, eq));
      s->set_level(level);
    }
    print_status(
        c, c.call(c.supervisor(), &v1::SupervisorService::Stub::SetAgentSkills, r, "set-skills"));
  });

  // call: one call (supervisor, admin).
  auto* call = app.add_subcommand("call", "calls in the engine")->require_subcommand(1);
  std::int64_t call_id = 0;
  int priority = 0;
  auto* call_priority = call->add_subcommand("priority", "change a waiting call's priority");
  call_priority->add_option("call", call_id, "call id")->required();
  call_priority->add_option("priority", priority, "new priority (higher is served first)")
      ->required();
  on(call_priority, [&](Client& c) {
    v1::SetCallPriorityRequest r;
    r.set_call_id(call_id);
    r.set_priority(priority);
    const auto moved =
        c.call(c.supervisor(), &v1::SupervisorService::Stub::SetCallPriority, r, "call priority");
    if (c.options().json)
      std::cout << json_of(moved) << std::endl;
    else
      std::cout << "call " << moved.call_id() << "  priority " << moved.priority() << "  position "
                << moved.position() << std::endl;
  });

  int frames = 0;
  auto* top = app.add_subcommand("top", "live wallboard of queues and agents (q quits)");
  top->add_option("--frames", frames, "quit after drawing this many screens");
  on(top, [&](Client& c) {
    if (Top(c).run(frames) != 0) throw CallFailed{"top failed"};
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file);
    if (!in) {
      std::cerr << "acdctl: cannot read the token file " << options.token_file << std::endl;
      return 2;
    }
    std::getline(in, options.token);
  }
  try {
    Client client(options);
    action(client);
  } catch (const CallFailed& e) {
    std::cerr << "acdctl: " << e.what << std::endl;
    return 1;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace
}  // namespace acd::cli

int main(int argc, char** argv) {
  return acd::cli::run(argc, argv);
}
