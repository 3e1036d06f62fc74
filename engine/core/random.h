// Randomness injected into the routing core (random and weighted-random strategies).
// A seeded Xoshiro256** makes every simulation repeatable. Thread-safety: owner thread only.
#pragma once

#include <cstdint>

namespace acd::core {

class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t next_u64() = 0;

  // Uniform in [0, 1).
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n); n > 0. Rejection sampling: no modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = -n % n;  // 2^64 mod n
    for (;;) {
      const std::uint64_t x = next_u64();
      if (x >= limit) return x % n;
    }
  }
};

class Xoshiro256 final : public Random {
 public:
  explicit Xoshiro256(std::uint64_t seed);
  std::uint64_t next_u64() override;

 private:
  std::uint64_t s_[4];
};

}  // namespace acd::core
