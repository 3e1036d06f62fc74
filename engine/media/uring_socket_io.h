// UringSocketIo: the media thread's UDP input and output through one io_uring (liburing),
// so thousands of sockets cost a few system calls per wake-up instead of one per packet.
//
//  - Input: every watched socket has one multishot recvmsg armed, taking its buffers from
//    a ring of provided buffers; each datagram becomes a completion carrying the socket's
//    key, the sender's address and the payload, read in place and the buffer handed back.
//    A multishot receive that ends (buffers ran out, an ICMP error reported on the socket)
//    is armed again while its socket is watched; one that keeps failing without bringing
//    a datagram is given up after a bound, and counted.
//  - Output: send() copies the datagram into a slot of a fixed pool and queues a sendmsg;
//    flush() submits everything queued in one io_uring_enter, which also runs the kernel's
//    pending completion work. A full pool makes send() return false (the caller sends
//    directly).
//  - The ring's descriptor is readable when completions wait: the owner's event loop
//    watches it and then calls drain().
// Thread-safety: none; one thread (the media thread) owns the object. The kernel must
// allow io_uring (Linux >= 6.0 for multishot recvmsg): create() says why not otherwise.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace acd::media {

class UringSocketIo {
 public:
  // A datagram for the socket watched under `key`: `payload` is what the buffer holds,
  // `size` the datagram's real length (larger than payload.size() when it was truncated).
  using OnDatagram =
      std::function<void(std::uint64_t key, std::span<const std::uint8_t> payload, std::size_t size,
                         const sockaddr* from, socklen_t from_length)>;

  // nullptr when io_uring cannot be used here (kernel too old, disabled by sysctl or a
  // seccomp profile), with the reason in *why_not.
  static std::unique_ptr<UringSocketIo> create(std::string* why_not);
  ~UringSocketIo();
  UringSocketIo(const UringSocketIo&) = delete;
  UringSocketIo& operator=(const UringSocketIo&) = delete;

  [[nodiscard]] int ring_fd() const;

  // Starts receiving from `fd` (a non-blocking UDP socket); key < 2^62. Submitted at once.
  bool watch(int fd, std::uint64_t key);
  // Stops receiving under `key` and submits everything queued (sends on the socket
  // included): the socket may be closed right after. Datagrams already completed for the
  // key may still be handed to drain(); the owner ignores unknown keys.
  void unwatch(std::uint64_t key);

  // Queues `data` to `to` on `fd`; false when no send slot is free (nothing queued).
  bool send(int fd, std::span<const std::uint8_t> data, const sockaddr* to, socklen_t to_length);
  // Submits what is queued and runs pending completion work (one system call).
  void flush();
  // Something is queued that no flush has submitted yet.
  [[nodiscard]] bool pending() const;

  // Hands every completed datagram to on_datagram and settles completed sends; returns
  // the number of datagrams. Does not enter the kernel: call flush() first to collect.
  std::size_t drain(const OnDatagram& on_datagram);

  // Sends the kernel refused (the socket's error: unreachable, buffer full) since the last
  // call; the count is reset.
  std::uint64_t take_send_failures();
  // Sockets given up since the last call: their receive failed again and again without
  // bringing a datagram (the stream hears nothing more); the count is reset.
  std::uint64_t take_abandoned_watches();

 private:
  struct State;
  explicit UringSocketIo(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace acd::media
