// ServerStream: one server-streaming call on gRPC's callback API, fed from another thread.
//
// The stream hub pushes shared, immutable messages; the stream keeps them in a bounded
// backlog and has at most one write in flight (gRPC's rule), starting the next from
// OnWriteDone. Streams of updates that can be combined (a watch: several agents' changes
// in one message, a queue's newer figures replacing older ones) give a `merge` function:
// while a write is in flight, new messages are merged into the one waiting behind it, so
// a client gets fewer, larger messages when it (or the network) is slower than the
// changes, instead of falling behind. A client that reads too slowly to keep up all the
// same (the backlog reaches its limit) has its stream ended with RESOURCE_EXHAUSTED
// rather than making the engine hold an unbounded queue for it; it watches again and
// gets a fresh snapshot.
//
// Lifetime: the object owns itself (a shared pointer to itself) from create() until gRPC
// calls OnDone; the hub's shared pointers keep it alive after that, and push() on a stream
// that is done does nothing.
//
// Thread-safety: push(), finish() and open() from any thread; gRPC calls the On* reactions
// on its threads. gRPC operations are started outside the mutex (a reaction may run
// inline).
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace acd::api {

template <class Message>
class ServerStream final : public grpc::ServerWriteReactor<Message>,
                           public std::enable_shared_from_this<ServerStream<Message>> {
 public:
  // Merges `next` into `into` (a message waiting to be written); false: they cannot be
  // merged (`into` unchanged), `next` is queued after it.
  using Merge = std::function<bool(Message& into, const Message& next)>;

  // `on_done` runs once, on a gRPC thread, when the call is over (the hub forgets it).
  static std::shared_ptr<ServerStream> create(std::size_t max_backlog,
                                              std::function<void()> on_done, Merge merge = {}) {
    std::shared_ptr<ServerStream> stream(
        new ServerStream(max_backlog, std::move(on_done), std::move(merge)));
    stream->self_ = stream;
    return stream;
  }

  // Queues `message` for the client; ends the stream (RESOURCE_EXHAUSTED) when the
  // client is too far behind.
  void push(std::shared_ptr<const Message> message) {
    const Message* start = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (finish_requested_ || done_) return;
      // A message waits behind the one being written: merge into it. It may be shared
      // with other streams, so the first merge makes it this stream's own copy.
      if (merge_ && writing_ && backlog_.size() >= 2) {
        if (!owned_back_) owned_back_ = std::make_shared<Message>(*backlog_.back());
        if (merge_(*owned_back_, *message)) {
          backlog_.back() = owned_back_;
          ++merged_;
          return;
        }
        if (backlog_.back() != owned_back_) owned_back_.reset();  // the copy was not used
      }
      if (backlog_.size() >= max_backlog_) {
        // Keep only the message being written (gRPC holds a pointer to it).
        if (writing_)
          backlog_.resize(1);
        else
          backlog_.clear();
        owned_back_.reset();
        lagged_ = true;
        request_finish_locked(
            grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                         "the client reads too slowly to keep up with the events; watch again"));
      } else {
        backlog_.push_back(std::move(message));
        owned_back_.reset();
        if (!writing_) {
          writing_ = true;
          start = backlog_.front().get();
        }
      }
    }
    if (start != nullptr) this->StartWrite(start);
    finish_if_requested();
  }

  // Ends the stream with `status` once the messages already queued are written.
  void finish(grpc::Status status) {
    {
      std::lock_guard lock(mutex_);
      request_finish_locked(std::move(status));
    }
    finish_if_requested();
  }

  // False once the stream has been ended (by either side).
  [[nodiscard]] bool open() const {
    std::lock_guard lock(mutex_);
    return !finish_requested_ && !done_;
  }
  // True when the stream was ended for reading too slowly.
  [[nodiscard]] bool lagged() const {
    std::lock_guard lock(mutex_);
    return lagged_;
  }
  // Messages merged into a waiting one so far.
  [[nodiscard]] std::uint64_t merged() const {
    std::lock_guard lock(mutex_);
    return merged_;
  }

 private:
  ServerStream(std::size_t max_backlog, std::function<void()> on_done, Merge merge)
      : max_backlog_(max_backlog), on_done_(std::move(on_done)), merge_(std::move(merge)) {}

  void OnWriteDone(bool ok) override {
    const Message* next = nullptr;
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!backlog_.empty()) backlog_.pop_front();
      // The next message goes in flight: it may no longer change.
      if (backlog_.size() <= 1) owned_back_.reset();
      if (!ok) {  // the client is gone: nothing more can be written
        backlog_.clear();
        owned_back_.reset();
        request_finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      } else if (!backlog_.empty()) {
        writing_ = true;
        next = backlog_.front().get();
      }
    }
    if (next != nullptr) this->StartWrite(next);
    finish_if_requested();
  }

  void OnCancel() override {
    finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
  }

  void OnDone() override {
    std::shared_ptr<ServerStream> keep;  // released last: may destroy this
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      backlog_.clear();
      owned_back_.reset();
      keep = std::move(self_);
    }
    if (on_done_) on_done_();
  }

  void request_finish_locked(grpc::Status status) {
    if (finish_requested_) return;
    finish_requested_ = true;
    finish_status_ = std::move(status);
  }

  // Calls Finish once, when asked to and no write is in flight.
  void finish_if_requested() {
    std::optional<grpc::Status> status;
    {
      std::lock_guard lock(mutex_);
      if (!finish_requested_ || finished_ || writing_ || done_) return;
      finished_ = true;
      status = std::move(finish_status_);
    }
    this->Finish(*status);
  }

  const std::size_t max_backlog_;
  std::function<void()> on_done_;
  const Merge merge_;
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const Message>> backlog_;  // front: being written when writing_
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  bool done_ = false;
  bool lagged_ = false;
  std::uint64_t merged_ = 0;
  // This stream's own copy of the message at the back of the backlog (not in flight),
  // made by the first merge into it; null when the back is shared or in flight.
  std::shared_ptr<Message> owned_back_;
  std::optional<grpc::Status> finish_status_;
  std::shared_ptr<ServerStream> self_;
};

// A stream refused before it starts (authentication, a bad request): ends with `status`.
template <class Message>
grpc::ServerWriteReactor<Message>* refused_stream(grpc::Status status) {
  auto stream = ServerStream<Message>::create(1, {});
  stream->finish(std::move(status));
  return stream.get();
}

}  // namespace acd::api
