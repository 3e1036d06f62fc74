// Result<T>: a value or a StoreError, for the store's expected failures (the database is
// unreachable, a migration fails, the schema is newer than this binary). Nothing in the
// store lets an exception escape. Thread-safety: a plain value.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace acd::store {

struct StoreError {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  static Result success(T value) { return Result(std::in_place_index<0>, std::move(value)); }
  static Result failure(std::string message) {
    return Result(std::in_place_index<1>, StoreError{std::move(message)});
  }

  [[nodiscard]] bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const StoreError& error() const& { return std::get<1>(data_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  template <std::size_t I, class V>
  Result(std::in_place_index_t<I> tag, V&& v) : data_(tag, std::forward<V>(v)) {}

  std::variant<T, StoreError> data_;
};

// For operations that return nothing but may fail.
struct Done {};
using Status = Result<Done>;

inline Status ok_status() {
  return Status::success(Done{});
}

}  // namespace acd::store
