// acdctl: the command-line client of acdd's gRPC API (proto/acd/v1).
//
//   acdctl [--server host:port] [--token T | --token-file F] [--json]
//          [--tls | --ca-file F] [--cert F --key F] [--server-name N] <group> <command> ...
//
// The server and token also come from ACD_SERVER and ACD_TOKEN, the CA file from
// ACD_CA_FILE. Without --tls (or another TLS option) the channel is plain TCP. Output is
// for people by default; --json prints each answer (and each streamed message) as one
// JSON line.
// `acdctl top` is a live wallboard fed by the supervisor watch streams.
// `acdctl task` creates, lists, shows, accepts, declines, completes, transfers and cancels
// non-voice tasks (TaskService: chats, e-mails, SMS, web forms, callback requests):
//   task create --channel chat --queue Q [--subject S] [--customer C] [--priority N]
//               [--vip N] [--attr k=v]...          (supervisor, admin)
//   task list [--queue Q] [--phase waiting|offered|accepted] [--limit N]
//   task show ID
//   task accept ID | decline ID | complete ID [--as A]   (your own; A's as a supervisor)
//   task transfer ID --queue Q [--agent B] [--as A]   (B: the agent it waits for first)
//   task cancel ID                                    (supervisor, admin)
// `acdctl route explain` is routing's dry run (SupervisorService.ExplainRoute): for a call
// or task of given attributes entering a queue, which steps and members match, why not,
// and who would be offered it, in order:
//   route explain --queue Q [--caller N] [--dialled N] [--priority N] [--vip N]
//                 [--language L] [--attr k=v]... [--ivr menu=key]... [--channel chat|...]
//                 [--waited 30s]                   (supervisor, admin, read-only)
// `acdctl config` exports, diffs, applies and reloads the tenant's configuration, and
// lists, gets, puts and deletes its entities (AdminService, admin role).
// Exit status: 0 done; 1 the server refused or failed (its code and message on stderr);
// 2 a usage error, or a TLS file or configuration file that cannot be read.
#include <google/protobuf/util/json_util.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include "acd/v1/admin_service.grpc.pb.h"
#include "acd/v1/agent_service.grpc.pb.h"
#include "acd/v1/report_service.grpc.pb.h"
#include "acd/v1/supervisor_service.grpc.pb.h"
#include "acd/v1/task_service.grpc.pb.h"
#include "engine/app/duration.h"
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
  // TLS: on with --tls or any of the options below it. PEM texts are read from the files
  // before the channel is made; an empty CA means the system's trusted roots.
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // checked against the server's certificate instead of the host
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// The channel's credentials: plain TCP, or TLS with the CA and client certificate read.
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const Options& options) {
  if (!options.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.ca_pem;
  ssl.pem_private_key = options.key_pem;
  ssl.pem_cert_chain = options.cert_pem;
  return grpc::SslCredentials(ssl);
}

// The PEM text of `path` into `out`; false (after saying why on stderr) when it cannot be
// read or holds no PEM block.
bool read_pem_file(const std::string& path, std::string_view what, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "acdctl: cannot read the " << what << " " << path << ": " << std::strerror(errno)
              << std::endl;
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::cerr << "acdctl: cannot read the " << what << " " << path << ": " << std::strerror(errno)
              << std::endl;
    return false;
  }
  if (out.find("-----BEGIN ") == std::string::npos) {
    std::cerr << "acdctl: the " << what << " " << path
              << " is not PEM (expected a -----BEGIN ... ----- block)" << std::endl;
    return false;
  }
  return true;
}

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
    // gRPC's own log lines (a failed handshake, ...) would repeat the status acdctl prints,
    // and garble the wallboard; GRPC_VERBOSITY set keeps them.
    if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});
    grpc::ChannelArguments arguments;
    if (!options_.server_name.empty()) arguments.SetSslTargetNameOverride(options_.server_name);
    channel_ = grpc::CreateCustomChannel(options_.server, channel_credentials(options_), arguments);
    agents_ = v1::AgentService::NewStub(channel_);
    supervisor_ = v1::SupervisorService::NewStub(channel_);
    reports_ = v1::ReportService::NewStub(channel_);
    admin_ = v1::AdminService::NewStub(channel_);
    tasks_ = v1::TaskService::NewStub(channel_);
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
    std::string what =
        std::string(name) + ": " + code_name(status.error_code()) + ": " + status.error_message();
    // No connection: the TLS settings are a likely cause.
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
        status.error_message().rfind("failed to connect", 0) == 0)
      what += options_.tls ? " (TLS: check --ca-file, --server-name, and --cert/--key if the "
                             "server requires a client certificate)"
                           : " (plain TCP: if the API uses TLS, add --ca-file or --tls)";
    throw CallFailed{std::move(what)};
  }

  v1::AgentService::Stub& agents() { return *agents_; }
  v1::SupervisorService::Stub& supervisor() { return *supervisor_; }
  v1::ReportService::Stub& reports() { return *reports_; }
  v1::AdminService::Stub& admin() { return *admin_; }
  v1::TaskService::Stub& tasks() { return *tasks_; }
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> agents_;
  std::unique_ptr<v1::SupervisorService::Stub> supervisor_;
  std::unique_ptr<v1::ReportService::Stub> reports_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
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

// ---- acdctl config ----

// A file acdctl cannot read, or a kind it does not know: main prints it and exits 2.
struct UsageFailed {
  std::string what;
};

// The text of `path` ("-": standard input).
std::string read_text_file(const std::string& path) {
  if (path == "-")
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageFailed{"cannot read " + path + ": " + std::strerror(errno)};
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw UsageFailed{"cannot read " + path + ": " + std::strerror(errno)};
  return text;
}

// "agent", "agents", "ivr-menu", "prompt_sets", "tenant" -> the EntityKind.
v1::EntityKind entity_kind(const std::string& text) {
  std::string name;
  for (char ch : text)
    name += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  v1::EntityKind kind = v1::ENTITY_KIND_UNSPECIFIED;
  if (!name.empty() &&
      (v1::EntityKind_Parse("ENTITY_KIND_" + name, &kind) ||
       (name.back() == 'S' &&
        v1::EntityKind_Parse("ENTITY_KIND_" + name.substr(0, name.size() - 1), &kind))) &&
      kind != v1::ENTITY_KIND_UNSPECIFIED)
    return kind;
  throw UsageFailed{"unknown kind \"" + text +
                    "\"; expected tenant, skill, team, agent, queue, user, trunk, ivr-menu, "
                    "prompt-set, calendar or flow (or their plurals)"};
}

// The changes of a diff, apply, put or delete, then what was done; warnings on stderr.
void print_changes(const Client& client, const v1::ConfigChanges& changes, bool dry_run) {
  for (const auto& w : changes.warnings()) std::cerr << "warning: " << w << std::endl;
  if (client.options().json) {
    std::cout << json_of(changes) << std::endl;
    return;
  }
  for (const auto& line : changes.changes()) std::cout << line << std::endl;
  if (changes.changes().empty()) {
    std::cout << "no differences" << std::endl;
  } else if (changes.applied()) {
    std::cout << "applied: " << changes.changes_size() << " changes, " << changes.rows_written()
              << " rows written" << std::endl;
  } else if (dry_run) {
    std::cout << "dry run: " << changes.changes_size() << " changes, nothing written" << std::endl;
  }
}

// ---- acdctl call search, acdctl report ----

// The range of a search or report from --from and --to (parse_time's forms; --to defaults
// to now, --from to 24 hours before --to), into the request's start_time and end_time.
template <class Request>
void set_range(Request& request, const std::string& from, const std::string& to) {
  const WallTime now = std::chrono::system_clock::now();
  const std::optional<WallTime> end = to.empty() ? now : parse_time(to, now);
  if (!end)
    throw CLI::ValidationError("--to",
                               "expected now, -24h, -7d, 2024-03-05 or "
                               "2024-03-05T10:00[:00][Z|+01:00], got \"" +
                                   to + "\"");
  const std::optional<WallTime> start =
      from.empty() ? std::optional<WallTime>(*end - std::chrono::hours(24)) : parse_time(from, now);
  if (!start)
    throw CLI::ValidationError("--from",
                               "expected now, -24h, -7d, 2024-03-05 or "
                               "2024-03-05T10:00[:00][Z|+01:00], got \"" +
                                   from + "\"");
  auto set = [](WallTime t, google::protobuf::Timestamp& out) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
    const auto s = std::chrono::floor<std::chrono::seconds>(ns);
    out.set_seconds(s.count());
    out.set_nanos(static_cast<std::int32_t>((ns - s).count()));
  };
  set(*start, *request.mutable_start_time());
  set(*end, *request.mutable_end_time());
}

// --interval's words.
v1::ReportInterval report_interval(const std::string& word) {
  if (word == "15min") return v1::REPORT_INTERVAL_QUARTER_HOUR;
  if (word == "day") return v1::REPORT_INTERVAL_DAY;
  if (word == "month") return v1::REPORT_INTERVAL_MONTH;
  return v1::REPORT_INTERVAL_HOUR;
}

// Prints a report: a JSON line, or its table.
template <class Response>
void print_report(const Client& client, const Response& response,
                  std::string (*table)(const Response&)) {
  if (client.options().json)
    std::cout << json_of(response) << std::endl;
  else
    std::cout << table(response) << std::flush;
}

// The other party of acdctl agent consult and dial: --agent or --number (the two requests
// have the same oneof).
struct Party {
  std::string agent, number;
  [[nodiscard]] std::string text() const { return agent.empty() ? number : agent; }
  template <class Request>
  Request request() const {
    Request r;
    if (!agent.empty()) r.set_agent(agent);
    if (!number.empty()) r.set_number(number);
    return r;
  }
};

// ---- key=value options ----

// A CLI11 check of a "key=value" option (`form` names it in the error: "menu=key").
std::function<std::string(const std::string&)> key_value_check(std::string form) {
  return [form = std::move(form)](const std::string& text) -> std::string {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) return "expected " + form + ", got \"" + text + "\"";
    return {};
  };
}

// "key=value" options (checked by key_value_check) into a request's map.
void put_pairs(const std::vector<std::string>& pairs,
               google::protobuf::Map<std::string, std::string>& out) {
  for (const auto& p : pairs) {
    const auto eq = p.find('=');
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
}

// ---- acdctl task ----

// What the task subcommands read from their arguments.
struct TaskArgs {
  std::int64_t id = 0;
  std::string channel;
  std::string queue;
  std::string subject;
  std::string customer;
  int priority = 0;
  int vip = 0;
  std::vector<std::string> attributes;  // "key=value"
  std::string phase;
  int limit = 0;
  std::string agent;     // acting for this agent (supervisor)
  std::string to_agent;  // a transfer's preferred agent
};

void print_task(const Client& client, const v1::Task& task) {
  std::cout << (client.options().json ? json_of(task) : task_line(task)) << std::endl;
}

// Adds the task subcommands to `app`; `on` sets the action of a subcommand.
void add_task_commands(CLI::App& app, TaskArgs& args,
                       const std::function<void(CLI::App*, std::function<void(Client&)>)>& on) {
  auto* task = app.add_subcommand("task",
                                  "non-voice tasks: chats, e-mails, SMS, web forms, "
                                  "callback requests")
                   ->require_subcommand(1);
  auto id_argument = [&args](CLI::App* command) {
    command->add_option("id", args.id, "the task's id")->required()->check(CLI::PositiveNumber);
    return command;
  };
  auto agent_option = [&args](CLI::App* command) {
    command->add_option("--as", args.agent,
                        "act for this agent (supervisor, admin); default: your own agent");
    return command;
  };

  auto* create = task->add_subcommand("create", "create a task in a queue (supervisor, admin)");
  create->add_option("--channel", args.channel, "chat, email, sms, web-form or callback")
      ->required()
      ->check(CLI::IsMember({"chat", "email", "sms", "web-form", "callback"}));
  create->add_option("--queue", args.queue, "the queue it waits in")->required();
  create->add_option("--subject", args.subject, "what the agent sees first");
  create->add_option("--customer", args.customer,
                     "the customer's address (number, e-mail, handle); looked up for the screen "
                     "pop");
  create->add_option("--priority", args.priority, "higher is served first");
  create->add_option("--vip", args.vip, "VIP level 0..10");
  create->add_option("--attr", args.attributes, "an attribute key=value (repeatable)")
      ->check(key_value_check("key=value"));
  on(create, [&args](Client& c) {
    v1::CreateTaskRequest r;
    r.set_channel(*channel_from_word(args.channel));
    r.set_queue(args.queue);
    r.set_subject(args.subject);
    r.set_customer(args.customer);
    r.set_priority(args.priority);
    r.set_vip_level(args.vip);
    put_pairs(args.attributes, *r.mutable_attributes());
    print_task(c, c.call(c.tasks(), &v1::TaskService::Stub::CreateTask, r, "task create"));
  });

  auto* list = task->add_subcommand("list", "the tasks you may see, oldest first");
  list->add_option("--queue", args.queue, "only this queue's");
  list->add_option("--phase", args.phase, "only the waiting, offered or accepted ones")
      ->check(CLI::IsMember({"waiting", "offered", "accepted"}));
  list->add_option("--limit", args.limit, "at most this many (default 1000)")
      ->check(CLI::Range(1, 10000));
  on(list, [&args](Client& c) {
    v1::ListTasksRequest r;
    r.set_queue(args.queue);
    if (!args.phase.empty()) r.set_phase(*phase_from_word(args.phase));
    r.set_limit(args.limit);
    const auto listed = c.call(c.tasks(), &v1::TaskService::Stub::ListTasks, r, "task list");
    if (c.options().json)
      std::cout << json_of(listed) << std::endl;
    else
      std::cout << task_table(listed, std::chrono::system_clock::now()) << std::flush;
  });

  on(id_argument(task->add_subcommand("show", "one task")), [&args](Client& c) {
    v1::GetTaskRequest r;
    r.set_task_id(args.id);
    const auto got = c.call(c.tasks(), &v1::TaskService::Stub::GetTask, r, "task show");
    if (c.options().json)
      std::cout << json_of(got) << std::endl;
    else
      std::cout << task_details(got, std::chrono::system_clock::now()) << std::flush;
  });

  // accept, decline, complete: the same request shape.
  auto agent_command = [&](const char* name, const char* help, auto rpc, auto request) {
    using Request = decltype(request);
    on(agent_option(id_argument(task->add_subcommand(name, help))),
       [&args, rpc, name = std::string("task ") + name](Client& c) {
         Request r;
         r.set_task_id(args.id);
         r.set_agent(args.agent);
         print_task(c, c.call(c.tasks(), rpc, r, name));
       });
  };
  agent_command("accept", "take a task offered to you", &v1::TaskService::Stub::AcceptTask,
                v1::AcceptTaskRequest{});
  agent_command("decline", "turn down a task offered to you (it goes to another agent)",
                &v1::TaskService::Stub::DeclineTask, v1::DeclineTaskRequest{});
  agent_command("complete", "finish a task you accepted", &v1::TaskService::Stub::CompleteTask,
                v1::CompleteTaskRequest{});

  auto* transfer = agent_option(id_argument(
      task->add_subcommand("transfer", "hand a task you accepted to a queue (and an agent)")));
  transfer->add_option("--queue", args.queue, "the queue it waits in next")->required();
  transfer->add_option("--agent", args.to_agent,
                       "the agent it waits for first (for the queue's sticky wait)");
  on(transfer, [&args](Client& c) {
    v1::TransferTaskRequest r;
    r.set_task_id(args.id);
    r.set_queue(args.queue);
    r.set_preferred_agent(args.to_agent);
    r.set_agent(args.agent);
    print_task(c, c.call(c.tasks(), &v1::TaskService::Stub::TransferTask, r, "task transfer"));
  });

  on(id_argument(task->add_subcommand("cancel", "end a task wherever it is (supervisor, admin)")),
     [&args](Client& c) {
       v1::CancelTaskRequest r;
       r.set_task_id(args.id);
       print_task(c, c.call(c.tasks(), &v1::TaskService::Stub::CancelTask, r, "task cancel"));
     });
}

// ---- acdctl route ----

// What route explain reads from its arguments.
struct RouteArgs {
  std::string queue;
  std::string caller;
  std::string dialled;
  int priority = 0;
  int vip = 0;
  std::string language;
  std::vector<std::string> attributes;   // "key=value"
  std::vector<std::string> ivr_choices;  // "menu=key"
  std::string channel;                   // empty: a call
  std::string waited;                    // "30s", "1m30s", "90" (seconds)
  bool json = false;                     // as acdctl's --json, also after the command
};

// Adds the route subcommands to `app`; `on` sets the action of a subcommand.
void add_route_commands(CLI::App& app, RouteArgs& args,
                        const std::function<void(CLI::App*, std::function<void(Client&)>)>& on) {
  auto* route = app.add_subcommand("route", "how calls are routed")->require_subcommand(1);
  auto* explain = route->add_subcommand(
      "explain",
      "dry run: which steps and agents match a call of these attributes, why not, and who "
      "would be offered it, in order (supervisor, admin, read-only)");
  explain->add_option("--queue", args.queue, "the queue it enters")->required();
  explain->add_option("--caller", args.caller, "the caller's number (task.caller)");
  explain->add_option("--dialled", args.dialled, "the number dialled (task.dialled)");
  explain->add_option("--priority", args.priority, "higher is served first");
  explain->add_option("--vip", args.vip, "VIP level 0..10 (task.vip)");
  explain->add_option("--language", args.language, "the caller's language (task.language)");
  explain->add_option("--attr", args.attributes, "an attribute key=value (repeatable)")
      ->check(key_value_check("key=value"));
  explain->add_option("--ivr", args.ivr_choices, "the key pressed in an IVR menu: menu=key")
      ->check(key_value_check("menu=key"));
  explain
      ->add_option("--channel", args.channel,
                   "a task of this channel instead of a call: chat, email, sms, web-form or "
                   "callback")
      ->check(CLI::IsMember({"chat", "email", "sms", "web-form", "callback"}));
  explain
      ->add_option("--waited", args.waited,
                   "as if it had already waited this long: 30s, 1m30s, 2m (default 0s)")
      ->check([](const std::string& text) -> std::string {
        const auto waited = app::parse_duration(text);
        return waited ? std::string() : waited.error();
      });
  explain->add_flag("--json,-j", args.json, "print the answer as one JSON line");
  on(explain, [&args](Client& c) {
    v1::ExplainRouteRequest r;
    r.set_queue(args.queue);
    r.set_caller_number(args.caller);
    r.set_dialled_number(args.dialled);
    r.set_priority(args.priority);
    r.set_vip_level(args.vip);
    r.set_language(args.language);
    put_pairs(args.attributes, *r.mutable_attributes());
    put_pairs(args.ivr_choices, *r.mutable_ivr_choices());
    if (!args.channel.empty()) r.set_channel(*channel_from_word(args.channel));
    if (const auto waited = app::parse_duration(args.waited.empty() ? "0s" : args.waited)) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*waited).count();
      r.mutable_waited()->set_seconds(ns / 1'000'000'000);
      r.mutable_waited()->set_nanos(static_cast<std::int32_t>(ns % 1'000'000'000));
    }
    const auto explained =
        c.call(c.supervisor(), &v1::SupervisorService::Stub::ExplainRoute, r, "route explain");
    if (c.options().json || args.json)
      std::cout << json_of(explained) << std::endl;
    else
      std::cout << route_explanation_text(explained) << std::flush;
  });
}

// ---- Commands ----

int run(int argc, char** argv) {
  CLI::App app{"acdctl: the command-line client of the acd engine (gRPC API)"};
  app.require_subcommand(1);
  Options options;
  const char* env_server = std::getenv("ACD_SERVER");
  const char* env_token = std::getenv("ACD_TOKEN");
  const char* env_ca_file = std::getenv("ACD_CA_FILE");
  options.server = env_server != nullptr ? env_server : "127.0.0.1:50051";
  options.token = env_token != nullptr ? env_token : "";
  options.ca_file = env_ca_file != nullptr ? env_ca_file : "";
  app.add_option("--server,-s", options.server, "host:port of acdd's API (env ACD_SERVER)");
  app.add_option("--token,-t", options.token, "bearer token (env ACD_TOKEN)");
  app.add_option("--token-file", options.token_file, "read the bearer token from this file");
  app.add_flag("--json,-j", options.json, "print answers and events as JSON lines");
  app.add_option("--timeout", options.timeout_seconds, "seconds to wait for an answer")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--tls", options.tls, "connect with TLS, trusting the system's CA certificates");
  app.add_option("--ca-file", options.ca_file,
                 "connect with TLS, trusting the CA certificate(s) in this PEM file (env "
                 "ACD_CA_FILE)");
  auto* cert = app.add_option("--cert", options.cert_file,
                              "client certificate (PEM) for servers that ask for one; implies TLS");
  auto* key =
      app.add_option("--key", options.key_file, "the client certificate's private key (PEM)");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--server-name", options.server_name,
                 "the name to check the server's certificate against, instead of the host of "
                 "--server; implies TLS");

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

  // call search: the call records of the history (supervisor, admin, read-only).
  struct {
    std::string caller, agent, queue, from, to, state, page_token;
    int limit = 50;
    bool all = false;
  } search;
  std::vector<std::string> state_words;
  for (int value = v1::CallFinalState_MIN + 1; value <= v1::CallFinalState_MAX; ++value)
    if (v1::CallFinalState_IsValid(value))
      state_words.push_back(final_state_word(static_cast<v1::CallFinalState>(value)));
  auto* call_search =
      call->add_subcommand("search", "search the call records, newest first, a page at a time");
  call_search->add_option("--caller", search.caller,
                          "the caller's number (compared as '+' and digits)");
  call_search->add_option("--agent", search.agent, "an agent name: the calls it answered");
  call_search->add_option("--queue", search.queue, "a queue name: the calls it had first or last");
  call_search->add_option("--from", search.from,
                          "calls that arrived from: now, -24h, -7d, 2024-03-05, "
                          "2024-03-05T10:00[:00][Z|+01:00] (UTC unless an offset is given; "
                          "default: 24 hours before --to)");
  call_search->add_option("--to", search.to, "... until, excluded (same forms; default: now)");
  call_search->add_option("--state", search.state, "how the calls ended")
      ->check(CLI::IsMember(state_words));
  call_search->add_option("--limit", search.limit, "calls per page, 1-1000 (default 50)")
      ->check(CLI::Range(1, 1000));
  call_search->add_option("--page-token", search.page_token,
                          "continue a search: the next page token of its last page");
  call_search->add_flag("--all", search.all, "follow every page to the last");
  on(call_search, [&](Client& c) {
    v1::SearchCallsRequest r;
    set_range(r, search.from, search.to);
    r.set_caller_number(search.caller);
    r.set_agent(search.agent);
    r.set_queue(search.queue);
    if (!search.state.empty()) r.set_final_state(*final_state_from_word(search.state));
    r.set_page_size(search.limit);
    r.set_page_token(search.page_token);
    for (bool first = true;; first = false) {
      const auto page =
          c.call(c.reports(), &v1::ReportService::Stub::SearchCalls, r, "call search");
      if (c.options().json)
        std::cout << json_of(page) << std::endl;
      else
        std::cout << call_table(page, first) << std::flush;
      if (page.next_page_token().empty()) return;
      if (!search.all) {
        // The token continues this very search: the same range and filters.
        if (!c.options().json)
          std::cout << "next page: --from " << iso_time_text(to_wall(r.start_time())) << " --to "
                    << iso_time_text(to_wall(r.end_time())) << " --page-token "
                    << page.next_page_token() << std::endl;
        return;
      }
      r.set_page_token(page.next_page_token());
    }
  });

  // report: the reports of the history (docs/REPORTS.md; supervisor, admin, read-only).
  auto* report =
      app.add_subcommand("report", "reports of your tenant's history")->require_subcommand(1);
  struct {
    std::string from, to, interval = "hour", time_zone;
    std::vector<std::string> queues, agents;
    double sl_threshold = -1;
  } range;
  auto ranged = [&range](CLI::App* command, bool interval) {
    command->add_option(
        "--from", range.from,
        "the range's start: now, -24h, -7d, 2024-03-05, 2024-03-05T10:00[:00]"
        "[Z|+01:00] (UTC unless an offset is given; default: 24 hours before --to)");
    command->add_option("--to", range.to, "the range's end, excluded (default: now)");
    command->add_option("--tz", range.time_zone,
                        "the IANA time zone whose clock cuts the intervals (default UTC)");
    if (interval)
      command->add_option("--interval", range.interval, "15min, hour (default), day or month")
          ->check(CLI::IsMember({"15min", "hour", "day", "month"}));
  };
  auto* report_queue =
      report->add_subcommand("queue", "per queue and interval: offered, answered, SL, ASA, AHT");
  ranged(report_queue, true);
  report_queue->add_option("--queue", range.queues, "only these queues (repeat it)");
  report_queue
      ->add_option("--sl-threshold", range.sl_threshold,
                   "seconds: replaces the recorded service-level threshold")
      ->check(CLI::Range(0.0, 86400.0));
  on(report_queue, [&](Client& c) {
    v1::QueueReportRequest r;
    set_range(r, range.from, range.to);
    r.set_interval(report_interval(range.interval));
    r.set_time_zone(range.time_zone);
    for (const auto& q : range.queues) r.add_queues(q);
    if (range.sl_threshold >= 0) {
      const auto ms = static_cast<std::int64_t>(range.sl_threshold * 1000 + 0.5);
      r.mutable_sl_threshold()->set_seconds(ms / 1000);
      r.mutable_sl_threshold()->set_nanos(static_cast<std::int32_t>(ms % 1000) * 1000000);
    }
    print_report(c, c.call(c.reports(), &v1::ReportService::Stub::QueueReport, r, "report queue"),
                 queue_report_table);
  });
  auto* report_agent =
      report->add_subcommand("agent", "per agent and interval: calls, RONA, time in each state");
  ranged(report_agent, true);
  report_agent->add_option("--agent", range.agents, "only these agents (repeat it)");
  on(report_agent, [&](Client& c) {
    v1::AgentReportRequest r;
    set_range(r, range.from, range.to);
    r.set_interval(report_interval(range.interval));
    r.set_time_zone(range.time_zone);
    for (const auto& a : range.agents) r.add_agents(a);
    print_report(c, c.call(c.reports(), &v1::ReportService::Stub::AgentReport, r, "report agent"),
                 agent_report_table);
  });
  auto* report_states = report->add_subcommand(
      "state-time", "per agent, interval, state and not-ready reason: the time spent");
  ranged(report_states, true);
  report_states->add_option("--agent", range.agents, "only these agents (repeat it)");
  on(report_states, [&](Client& c) {
    v1::AgentStateTimeRequest r;
    set_range(r, range.from, range.to);
    r.set_interval(report_interval(range.interval));
    r.set_time_zone(range.time_zone);
    for (const auto& a : range.agents) r.add_agents(a);
    print_report(
        c, c.call(c.reports(), &v1::ReportService::Stub::AgentStateTime, r, "report state-time"),
        state_time_table);
  });
  auto* report_monthly =
      report->add_subcommand("monthly", "per agent and calendar month: call volume and AHT");
  ranged(report_monthly, false);
  report_monthly->add_option("--agent", range.agents, "only these agents (repeat it)");
  on(report_monthly, [&](Client& c) {
    v1::AgentMonthlyVolumeRequest r;
    set_range(r, range.from, range.to);
    r.set_time_zone(range.time_zone);
    for (const auto& a : range.agents) r.add_agents(a);
    print_report(
        c, c.call(c.reports(), &v1::ReportService::Stub::AgentMonthlyVolume, r, "report monthly"),
        monthly_volume_table);
  });

  // config: the tenant's configuration in the database (admin).
  auto* config = app.add_subcommand("config", "your tenant's configuration in the database (admin)")
                     ->require_subcommand(1);
  std::string config_file;
  std::string output_file;
  std::string kind_text;
  std::string entity;
  bool dry_run = false;
  auto* config_export = config->add_subcommand("export", "the configuration as YAML");
  config_export->add_option("-o,--output", output_file, "write it to this file");
  on(config_export, [&](Client& c) {
    const auto exported = c.call(c.admin(), &v1::AdminService::Stub::ExportConfig,
                                 v1::ExportConfigRequest{}, "config export");
    if (!output_file.empty()) {
      std::ofstream out(output_file, std::ios::binary | std::ios::trunc);
      out << exported.yaml();
      out.close();
      if (!out) throw UsageFailed{"cannot write " + output_file};
    } else if (c.options().json) {
      std::cout << json_of(exported) << std::endl;
    } else {
      std::cout << exported.yaml() << std::flush;
    }
  });
  auto* config_diff = config->add_subcommand("diff", "what applying FILE would change");
  config_diff->add_option("file", config_file, "a tenants: YAML file ('-': standard input)")
      ->required();
  on(config_diff, [&](Client& c) {
    v1::DiffConfigRequest r;
    r.set_yaml(read_text_file(config_file));
    print_changes(c, c.call(c.admin(), &v1::AdminService::Stub::DiffConfig, r, "config diff"),
                  true);
  });
  auto* config_apply =
      config->add_subcommand("apply", "make the configuration equal to FILE (all or nothing)");
  config_apply->add_option("file", config_file, "a tenants: YAML file ('-': standard input)")
      ->required();
  config_apply->add_flag("--dry-run", dry_run, "check and show the changes, write nothing");
  on(config_apply, [&](Client& c) {
    v1::ApplyConfigRequest r;
    r.set_yaml(read_text_file(config_file));
    r.set_dry_run(dry_run);
    print_changes(c, c.call(c.admin(), &v1::AdminService::Stub::ApplyConfig, r, "config apply"),
                  dry_run);
  });
  on(config->add_subcommand("reload", "make the engine load the database's configuration now"),
     [](Client& c) {
       const auto reloaded =
           c.call(c.admin(), &v1::AdminService::Stub::Reload, v1::ReloadRequest{}, "config reload");
       std::cout << (c.options().json ? json_of(reloaded) : reloaded.message()) << std::endl;
     });
  auto* config_list = config->add_subcommand("list", "the names of the entities of one kind");
  config_list->add_option("kind", kind_text, "agents, queues, skills, users, teams, trunks, ...")
      ->required();
  on(config_list, [&](Client& c) {
    v1::ListEntitiesRequest r;
    r.set_kind(entity_kind(kind_text));
    const auto listed = c.call(c.admin(), &v1::AdminService::Stub::ListEntities, r, "config list");
    if (c.options().json) {
      std::cout << json_of(listed) << std::endl;
      return;
    }
    for (const auto& e : listed.entities()) std::cout << e.name() << std::endl;
  });
  auto* config_get = config->add_subcommand("get", "one entity as YAML");
  config_get->add_option("kind", kind_text, "agent, queue, skill, user, tenant, ...")->required();
  config_get->add_option("name", entity, "its name (none for the tenant)");
  on(config_get, [&](Client& c) {
    v1::GetEntityRequest r;
    r.set_kind(entity_kind(kind_text));
    r.set_name(entity);
    const auto got = c.call(c.admin(), &v1::AdminService::Stub::GetEntity, r, "config get");
    std::cout << (c.options().json ? json_of(got) + "\n" : got.yaml()) << std::flush;
  });
  auto* config_put =
      config->add_subcommand("put", "create an entity, or replace the one of its name");
  config_put->add_option("kind", kind_text, "agent, queue, skill, user, tenant, ...")->required();
  config_put->add_option("file", config_file, "the entity as YAML ('-': standard input)")
      ->required();
  config_put->add_flag("--dry-run", dry_run, "check and show the changes, write nothing");
  on(config_put, [&](Client& c) {
    v1::PutEntityRequest r;
    r.set_kind(entity_kind(kind_text));
    r.set_yaml(read_text_file(config_file));
    r.set_dry_run(dry_run);
    print_changes(c, c.call(c.admin(), &v1::AdminService::Stub::PutEntity, r, "config put"),
                  dry_run);
  });
  auto* config_delete = config->add_subcommand("delete", "delete an entity");
  config_delete->add_option("kind", kind_text, "agent, queue, skill, user, ...")->required();
  config_delete->add_option("name", entity, "its name")->required();
  config_delete->add_flag("--dry-run", dry_run, "check and show the changes, write nothing");
  on(config_delete, [&](Client& c) {
    v1::DeleteEntityRequest r;
    r.set_kind(entity_kind(kind_text));
    r.set_name(entity);
    r.set_dry_run(dry_run);
    print_changes(c, c.call(c.admin(), &v1::AdminService::Stub::DeleteEntity, r, "config delete"),
                  dry_run);
  });

  // Call control: the agent's own call (agent role), or an agent's call (supervisor).
  // Prints "ok: <what>" (or {} with --json) once the engine acted.
  auto done = [](Client& c, const std::string& what) {
    if (c.options().json)
      std::cout << "{}" << std::endl;
    else
      std::cout << "ok: " << what << std::endl;
  };
  on(agent->add_subcommand("hold", "put your caller on hold (music on hold)"), [done](Client& c) {
    c.call(c.agents(), &v1::AgentService::Stub::Hold, v1::HoldRequest{}, "hold");
    done(c, "on hold");
  });
  on(agent->add_subcommand("retrieve", "take your caller off hold"), [done](Client& c) {
    c.call(c.agents(), &v1::AgentService::Stub::Retrieve, v1::RetrieveRequest{}, "retrieve");
    done(c, "retrieved");
  });
  on(agent->add_subcommand("hangup", "end your call"), [done](Client& c) {
    c.call(c.agents(), &v1::AgentService::Stub::HangUp, v1::HangUpRequest{}, "hangup");
    done(c, "call ended");
  });
  struct {
    std::string agent, queue, number;
  } transfer_to;
  auto* transfer = agent->add_subcommand(
      "transfer", "transfer your call (blind) to an agent, a queue or an outside number");
  auto* to_agent = transfer->add_option("--agent", transfer_to.agent, "agent name or extension");
  auto* to_queue = transfer->add_option("--queue", transfer_to.queue, "queue name");
  auto* to_number = transfer->add_option("--number", transfer_to.number, "outside number");
  to_agent->excludes(to_queue, to_number);
  to_queue->excludes(to_number);
  transfer->require_option(1);
  on(transfer, [&transfer_to, done](Client& c) {
    v1::TransferRequest r;
    if (!transfer_to.agent.empty()) r.set_agent(transfer_to.agent);
    if (!transfer_to.queue.empty()) r.set_queue(transfer_to.queue);
    if (!transfer_to.number.empty()) r.set_number(transfer_to.number);
    c.call(c.agents(), &v1::AgentService::Stub::Transfer, r, "transfer");
    done(c, "transferred");
  });
  std::string recording_word;
  auto* recording = agent->add_subcommand("recording", "pause or resume your call's recording");
  recording->add_option("action", recording_word, "pause or resume")
      ->required()
      ->check(CLI::IsMember({"pause", "resume"}));
  on(recording, [&recording_word, done](Client& c) {
    v1::SetRecordingPausedRequest r;
    r.set_paused(recording_word == "pause");
    c.call(c.agents(), &v1::AgentService::Stub::SetRecordingPaused, r, "recording");
    done(c, r.paused() ? "recording paused" : "recording resumed");
  });
  // consult and dial: --agent NAME or --number N (one of them).
  auto party_options = [](CLI::App* command, Party& party) {
    auto* by_agent = command->add_option("--agent", party.agent, "agent name or extension");
    by_agent->excludes(command->add_option("--number", party.number, "outside number"));
    command->require_option(1);
    return command;
  };
  Party consult_to;
  on(party_options(agent->add_subcommand(
                       "consult", "hold your caller and ring another agent or an outside number"),
                   consult_to),
     [&consult_to, done](Client& c) {
       c.call(c.agents(), &v1::AgentService::Stub::Consult,
              consult_to.request<v1::ConsultRequest>(), "consult");
       done(c, "ringing " + consult_to.text());
     });
  Party dial_to;
  on(party_options(
         agent->add_subcommand(
             "dial", "ring your phone, then another agent or an outside number (click-to-dial)"),
         dial_to),
     [&dial_to, done](Client& c) {
       c.call(c.agents(), &v1::AgentService::Stub::Dial, dial_to.request<v1::DialRequest>(),
              "dial");
       done(c, "ringing your phone, then " + dial_to.text());
     });
  on(agent->add_subcommand("complete-transfer",
                           "hand your caller to the party you consulted, and leave"),
     [done](Client& c) {
       c.call(c.agents(), &v1::AgentService::Stub::CompleteTransfer, v1::CompleteTransferRequest{},
              "complete-transfer");
       done(c, "transferred");
     });
  on(agent->add_subcommand("conference", "join your caller and the consulted party (3-way)"),
     [done](Client& c) {
       c.call(c.agents(), &v1::AgentService::Stub::Conference, v1::ConferenceRequest{},
              "conference");
       done(c, "in conference");
     });
  on(agent->add_subcommand("cancel-consult", "hang up the consulted party; back to your caller"),
     [done](Client& c) {
       c.call(c.agents(), &v1::AgentService::Stub::CancelConsult, v1::CancelConsultRequest{},
              "cancel-consult");
       done(c, "consultation ended");
     });
  std::string listen_word = "monitor";
  std::string phone;
  auto* listen = agents->add_subcommand(
      "listen", "ring your phone into an agent's call: monitor, whisper (coach) or barge");
  listen->add_option("agent", target, "agent name")->required();
  listen->add_option("--mode", listen_word, "monitor (default), whisper or barge")
      ->check(CLI::IsMember({"monitor", "whisper", "barge"}));
  listen->add_option("--phone", phone,
                     "extension or name of the phone to ring (default: your own agent's)");
  on(listen, [&, done](Client& c) {
    v1::ListenInRequest r;
    r.set_agent(target);
    r.set_phone(phone);
    r.set_mode(listen_word == "whisper" ? v1::LISTEN_MODE_WHISPER
               : listen_word == "barge" ? v1::LISTEN_MODE_BARGE
                                        : v1::LISTEN_MODE_MONITOR);
    c.call(c.supervisor(), &v1::SupervisorService::Stub::ListenIn, r, "agents listen");
    done(c, "ringing your phone (" + listen_word + ")");
  });
  auto* intercept = agents->add_subcommand(
      "intercept", "ring your phone and take an agent's call over when you answer");
  intercept->add_option("agent", target, "agent name")->required();
  intercept->add_option("--phone", phone,
                        "extension or name of the phone to ring (default: your own agent's)");
  on(intercept, [&, done](Client& c) {
    v1::InterceptRequest r;
    r.set_agent(target);
    r.set_phone(phone);
    c.call(c.supervisor(), &v1::SupervisorService::Stub::Intercept, r, "agents intercept");
    done(c, "ringing your phone (intercept)");
  });
  auto* release = agents->add_subcommand("force-release", "end the call an agent talks on");
  release->add_option("agent", target, "agent name")->required();
  on(release, [&, done](Client& c) {
    v1::ForceReleaseRequest r;
    r.set_agent(target);
    c.call(c.supervisor(), &v1::SupervisorService::Stub::ForceRelease, r, "agents force-release");
    done(c, "call ended");
  });

  // Messages: agents to agents or supervisors, supervisors to agents.
  std::string text;
  std::string to;
  bool to_group = false;
  auto* agent_message =
      agent->add_subcommand("message", "send a message to an agent or the supervisors");
  auto* agent_to = agent_message->add_option("--to", to, "the receiving agent");
  agent_message->add_flag("--supervisors", to_group, "send it to the supervisors")
      ->excludes(agent_to);
  agent_message->add_option("text", text, "the message")->required();
  on(agent_message, [&](Client& c) {
    v1::AgentMessageRequest r;
    r.set_to_agent(to);
    r.set_to_supervisors(to_group);
    r.set_text(text);
    const auto sent = c.call(c.agents(), &v1::AgentService::Stub::SendMessage, r, "message");
    if (c.options().json)
      std::cout << json_of(sent) << std::endl;
    else
      std::cout << "delivered to " << sent.delivered() << " open stream(s)" << std::endl;
  });
  auto* agents_message = agents->add_subcommand("message", "send a message to agents");
  auto* agents_to = agents_message->add_option("--to", to, "the receiving agent");
  agents_message->add_flag("--all", to_group, "send it to every agent")->excludes(agents_to);
  agents_message->add_option("text", text, "the message")->required();
  on(agents_message, [&](Client& c) {
    v1::SupervisorMessageRequest r;
    r.set_to_agent(to);
    r.set_to_all_agents(to_group);
    r.set_text(text);
    const auto sent =
        c.call(c.supervisor(), &v1::SupervisorService::Stub::SendMessage, r, "agents message");
    if (c.options().json)
      std::cout << json_of(sent) << std::endl;
    else
      std::cout << "delivered to " << sent.delivered() << " open stream(s)" << std::endl;
  });
  auto* messages =
      app.add_subcommand("messages", "messages to the supervisors")->require_subcommand(1);
  auto* messages_watch = messages->add_subcommand("watch", "follow the agents' messages");
  messages_watch->add_option("--count", count, "stop after this many messages");
  on(messages_watch, [&](Client& c) {
    auto context = c.context(true);
    auto reader = c.supervisor().WatchMessages(context.get(), v1::WatchMessagesRequest{});
    follow(
        c, std::move(context), std::move(reader), count,
        [](const v1::ChatMessage& m) { std::cout << message_line(m) << std::endl; },
        "messages watch");
  });

  TaskArgs task_args;
  add_task_commands(app, task_args, on);
  RouteArgs route_args;
  add_route_commands(app, route_args, on);

  int frames = 0;
  auto* top = app.add_subcommand("top", "live wallboard of queues and agents (q quits)");
  top->add_option("--frames", frames, "quit after drawing this many screens");
  on(top, [&](Client& c) {
    if (Top(c).run(frames) != 0) throw CallFailed{"top failed"};
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are no errors; every usage error exits 2, as documented.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file);
    if (!in) {
      std::cerr << "acdctl: cannot read the token file " << options.token_file << std::endl;
      return 2;
    }
    std::getline(in, options.token);
  }
  options.tls = options.tls || !options.ca_file.empty() || !options.cert_file.empty() ||
                !options.server_name.empty();
  if ((!options.ca_file.empty() && !read_pem_file(options.ca_file, "CA file", options.ca_pem)) ||
      (!options.cert_file.empty() &&
       !read_pem_file(options.cert_file, "certificate file", options.cert_pem)) ||
      (!options.key_file.empty() && !read_pem_file(options.key_file, "key file", options.key_pem)))
    return 2;
  try {
    Client client(options);
    action(client);
  } catch (const UsageFailed& e) {
    std::cerr << "acdctl: " << e.what << std::endl;
    return 2;
  } catch (const CallFailed& e) {
    std::cerr << "acdctl: " << e.what << std::endl;
    return 1;
  } catch (const CLI::ParseError& e) {
    // Help and version are no errors; every usage error exits 2, as documented.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace
}  // namespace acd::cli

int main(int argc, char** argv) {
  return acd::cli::run(argc, argv);
}
