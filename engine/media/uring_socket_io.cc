#include "engine/media/uring_socket_io.h"

#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "engine/media/rtp_packet.h"

namespace acd::media {
namespace {

// Completions tell what they finish by the top bits of their user data.
constexpr std::uint64_t kKindShift = 62;
constexpr std::uint64_t kReceive = 0;
constexpr std::uint64_t kSend = 1;
constexpr std::uint64_t kCancel = 2;
constexpr std::uint64_t kPayloadMask = (std::uint64_t{1} << kKindShift) - 1;

constexpr unsigned kSubmissionEntries = 4096;
constexpr unsigned kCompletionEntries = 32768;  // overflow is kept by the kernel anyway
constexpr unsigned kBufferCount = 4096;         // a power of two (provided buffer ring)
constexpr unsigned kBufferSize = 1664;          // header + sender address + a datagram
constexpr int kBufferGroup = 1;
constexpr std::size_t kSendSlots = 4096;
// A receive that keeps ending in an error without bringing a datagram is given up after
// this many re-arms in a row (the socket is broken; the count says so).
constexpr int kMaxFailedArms = 64;
// io_uring_submit attempts before a flush gives up (the kernel refuses with EAGAIN or
// EBUSY while it cannot take more; what is left goes with the next flush).
constexpr int kSubmitAttempts = 8;

std::uint64_t tagged(std::uint64_t kind, std::uint64_t payload) {
  return kind << kKindShift | (payload & kPayloadMask);
}

struct SendSlot {
  msghdr message{};
  iovec piece{};
  sockaddr_storage to{};
  std::array<std::uint8_t, kMaxRtpDatagram> data{};
};

}  // namespace

struct UringSocketIo::State {
  io_uring ring{};
  bool ring_ready = false;
  io_uring_buf_ring* buffers = nullptr;  // the provided-buffer ring (shared with the kernel)
  std::vector<std::uint8_t> buffer_memory;
  msghdr receive_template{};  // the layout every receive buffer gets
  // Each watch() gets a number of its own, which its receive completions carry: one that
  // completes after unwatch() (or after the key was watched again on a new socket) is
  // recognised as stale.
  struct Watch {
    int fd;
    std::uint64_t key;
    int failed_arms = 0;  // receives in a row that ended in an error
  };
  std::uint64_t last_watch = 0;
  std::unordered_map<std::uint64_t, Watch> watches;         // watch number -> socket and key
  std::unordered_map<std::uint64_t, std::uint64_t> by_key;  // key -> watch number
  std::vector<SendSlot> slots;
  std::vector<std::uint32_t> free_slots;
  std::uint64_t send_failures = 0;
  std::uint64_t abandoned_watches = 0;

  ~State() {
    if (buffers != nullptr) {
      io_uring_unregister_buf_ring(&ring, kBufferGroup);
      std::free(buffers);
    }
    if (ring_ready) io_uring_queue_exit(&ring);
  }

  io_uring_sqe* next_entry() {
    io_uring_sqe* entry = io_uring_get_sqe(&ring);
    if (entry == nullptr) {  // the submission queue is full: submit it and go on
      io_uring_submit(&ring);
      entry = io_uring_get_sqe(&ring);
    }
    return entry;
  }

  bool arm(int fd, std::uint64_t watch) {
    io_uring_sqe* entry = next_entry();
    if (entry == nullptr) return false;
    io_uring_prep_recvmsg_multishot(entry, fd, &receive_template, 0);
    entry->flags |= IOSQE_BUFFER_SELECT;
    entry->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(entry, tagged(kReceive, watch));
    return true;
  }

  std::uint8_t* buffer(unsigned id) { return buffer_memory.data() + std::size_t{id} * kBufferSize; }

  // Submits until the submission queue is empty (or the kernel keeps refusing).
  void submit_all() {
    for (int attempt = 0; attempt < kSubmitAttempts && io_uring_sq_ready(&ring) > 0; ++attempt)
      if (io_uring_submit(&ring) < 0) break;
  }

  void give_back(unsigned id) {
    io_uring_buf_ring_add(buffers, buffer(id), kBufferSize, static_cast<unsigned short>(id),
                          io_uring_buf_ring_mask(kBufferCount), 0);
    io_uring_buf_ring_advance(buffers, 1);
  }
};

std::unique_ptr<UringSocketIo> UringSocketIo::create(std::string* why_not) {
  auto fail = [&](const char* what, int error) -> std::unique_ptr<UringSocketIo> {
    if (why_not != nullptr) *why_not = std::string(what) + ": " + std::strerror(error);
    return nullptr;
  };
  auto state = std::make_unique<State>();
  io_uring_params params{};
  // Completion work runs when the media thread next enters the kernel (it does so at
  // least once per wake-up), without interrupting it in between.
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  params.cq_entries = kCompletionEntries;
  int rc = io_uring_queue_init_params(kSubmissionEntries, &state->ring, &params);
  if (rc < 0) return fail("io_uring_setup", -rc);
  state->ring_ready = true;
  if ((params.features & IORING_FEAT_NODROP) == 0) return fail("io_uring: no NODROP", ENOTSUP);

  void* ring_memory = nullptr;
  if (posix_memalign(&ring_memory, 4096, kBufferCount * sizeof(io_uring_buf)) != 0)
    return fail("io_uring: buffer ring", ENOMEM);
  state->buffers = static_cast<io_uring_buf_ring*>(ring_memory);
  io_uring_buf_ring_init(state->buffers);
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<std::uintptr_t>(ring_memory);
  registration.ring_entries = kBufferCount;
  registration.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&state->ring, &registration, 0);
  if (rc < 0) {
    std::free(ring_memory);
    state->buffers = nullptr;
    return fail("io_uring_register_buf_ring", -rc);
  }
  state->buffer_memory.resize(std::size_t{kBufferCount} * kBufferSize);
  for (unsigned id = 0; id < kBufferCount; ++id) state->give_back(id);
  state->receive_template.msg_namelen = sizeof(sockaddr_storage);

  state->slots.resize(kSendSlots);
  state->free_slots.reserve(kSendSlots);
  for (std::size_t i = kSendSlots; i-- > 0;)
    state->free_slots.push_back(static_cast<std::uint32_t>(i));

  // Multishot recvmsg came with Linux 6.0: an older kernel refuses the request itself,
  // so try one on a scratch socket before relying on it.
  const int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return fail("socket", errno);
  state->arm(probe, 0);
  io_uring_sqe* cancel = state->next_entry();
  io_uring_prep_cancel64(cancel, tagged(kReceive, 0), 0);
  io_uring_sqe_set_data64(cancel, tagged(kCancel, 0));
  const int submitted = io_uring_submit_and_wait(&state->ring, 2);
  int refused = 0;
  io_uring_cqe* completion = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&state->ring, head, completion) {
    ++seen;
    if (completion->user_data >> kKindShift == kReceive && completion->res < 0 &&
        completion->res != -ECANCELED)
      refused = -completion->res;
  }
  io_uring_cq_advance(&state->ring, seen);
  ::close(probe);
  if (submitted < 0) return fail("io_uring_enter", -submitted);
  if (seen < 2) return fail("io_uring: the probe's completions did not come", EIO);
  if (refused != 0) return fail("io_uring multishot recvmsg", refused);
  return std::unique_ptr<UringSocketIo>(new UringSocketIo(std::move(state)));
}

UringSocketIo::UringSocketIo(std::unique_ptr<State> state) : state_(std::move(state)) {}
UringSocketIo::~UringSocketIo() = default;

int UringSocketIo::ring_fd() const {
  return state_->ring.ring_fd;
}

bool UringSocketIo::watch(int fd, std::uint64_t key) {
  unwatch(key);
  const std::uint64_t watch = ++state_->last_watch;
  if (!state_->arm(fd, watch)) return false;
  state_->watches.emplace(watch, State::Watch{fd, key});
  state_->by_key.emplace(key, watch);
  state_->submit_all();
  return true;
}

void UringSocketIo::unwatch(std::uint64_t key) {
  const auto it = state_->by_key.find(key);
  if (it != state_->by_key.end()) {
    const std::uint64_t watch = it->second;
    state_->by_key.erase(it);
    state_->watches.erase(watch);
    if (io_uring_sqe* entry = state_->next_entry()) {
      io_uring_prep_cancel64(entry, tagged(kReceive, watch), 0);
      io_uring_sqe_set_data64(entry, tagged(kCancel, watch));
    }
  }
  // Whatever is queued (sends on this socket too) reaches the kernel before the caller
  // closes the descriptor, whose number may then name another file.
  state_->submit_all();
}

bool UringSocketIo::send(int fd, std::span<const std::uint8_t> data, const sockaddr* to,
                         socklen_t to_length) {
  if (state_->free_slots.empty() || data.size() > kMaxRtpDatagram ||
      to_length > sizeof(sockaddr_storage))
    return false;
  io_uring_sqe* entry = state_->next_entry();
  if (entry == nullptr) return false;
  const std::uint32_t index = state_->free_slots.back();
  state_->free_slots.pop_back();
  SendSlot& slot = state_->slots[index];
  std::memcpy(slot.data.data(), data.data(), data.size());
  std::memcpy(&slot.to, to, to_length);
  slot.piece = iovec{slot.data.data(), data.size()};
  slot.message = msghdr{};
  slot.message.msg_name = &slot.to;
  slot.message.msg_namelen = to_length;
  slot.message.msg_iov = &slot.piece;
  slot.message.msg_iovlen = 1;
  io_uring_prep_sendmsg(entry, fd, &slot.message, MSG_DONTWAIT);
  io_uring_sqe_set_data64(entry, tagged(kSend, index));
  return true;
}

void UringSocketIo::flush() {
  io_uring_submit_and_get_events(&state_->ring);
  state_->submit_all();  // a partial submission: the rest now
}

bool UringSocketIo::pending() const {
  return io_uring_sq_ready(&state_->ring) > 0;
}

std::size_t UringSocketIo::drain(const OnDatagram& on_datagram) {
  State& s = *state_;
  std::size_t datagrams = 0;
  io_uring_cqe* completion = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&s.ring, head, completion) {
    ++seen;
    const std::uint64_t kind = completion->user_data >> kKindShift;
    const std::uint64_t payload = completion->user_data & kPayloadMask;
    if (kind == kSend) {
      if (completion->res < 0) ++s.send_failures;
      s.free_slots.push_back(static_cast<std::uint32_t>(payload));
      continue;
    }
    if (kind != kReceive) continue;
    const auto watch = s.watches.find(payload);  // end(): stale, the socket was unwatched
    if ((completion->flags & IORING_CQE_F_BUFFER) != 0) {
      const unsigned id = completion->flags >> IORING_CQE_BUFFER_SHIFT;
      std::uint8_t* buffer = s.buffer(id);
      auto* out = io_uring_recvmsg_validate(buffer, completion->res, &s.receive_template);
      if (out != nullptr && completion->res >= 0 && watch != s.watches.end()) {
        const auto* data =
            static_cast<const std::uint8_t*>(io_uring_recvmsg_payload(out, &s.receive_template));
        const std::size_t held =
            io_uring_recvmsg_payload_length(out, completion->res, &s.receive_template);
        // A datagram longer than the buffer is cut (MSG_TRUNC): its size is then more
        // than what is held, whatever payloadlen says.
        std::size_t size = std::max<std::size_t>(held, out->payloadlen);
        if ((out->flags & MSG_TRUNC) != 0 && size <= held) size = held + 1;
        const socklen_t from_length =
            std::min<socklen_t>(out->namelen, static_cast<socklen_t>(sizeof(sockaddr_storage)));
        watch->second.failed_arms = 0;
        on_datagram(watch->second.key, std::span<const std::uint8_t>(data, held), size,
                    static_cast<const sockaddr*>(io_uring_recvmsg_name(out)), from_length);
        ++datagrams;
      }
      s.give_back(id);
    }
    // A multishot receive that ended (no buffer free, an error reported on the socket)
    // is armed again while its socket is still watched.
    // A multishot receive that ended is armed again: at once when it ran out of buffers
    // or brought data; after an error (an ICMP error reported on the socket) too, but not
    // for ever: a socket that fails kMaxFailedArms times in a row is given up and counted.
    if ((completion->flags & IORING_CQE_F_MORE) == 0) {
      const auto still = s.watches.find(payload);  // on_datagram may have changed the map
      if (still != s.watches.end()) {
        const bool failed = completion->res < 0 && completion->res != -ENOBUFS;
        if (failed && ++still->second.failed_arms > kMaxFailedArms) {
          ++s.abandoned_watches;
        } else {
          s.arm(still->second.fd, payload);
        }
      }
    }
  }
  io_uring_cq_advance(&s.ring, seen);
  return datagrams;
}

std::uint64_t UringSocketIo::take_abandoned_watches() {
  const std::uint64_t abandoned = state_->abandoned_watches;
  state_->abandoned_watches = 0;
  return abandoned;
}

std::uint64_t UringSocketIo::take_send_failures() {
  const std::uint64_t failures = state_->send_failures;
  state_->send_failures = 0;
  return failures;
}

}  // namespace acd::media
