// Result<T, E>: a value or an error, for functions whose failure is an expected outcome
// (a malformed duration, an invalid configuration file) rather than a bug. Thread-safety:
// a plain value.
#pragma once

#include <utility>
#include <variant>

namespace acd::app {

template <class T, class E>
class [[nodiscard]] Result {
 public:
  static Result success(T value) { return Result(std::in_place_index<0>, std::move(value)); }
  static Result failure(E error) { return Result(std::in_place_index<1>, std::move(error)); }

  [[nodiscard]] bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const E& error() const& { return std::get<1>(data_); }
  E&& error() && { return std::get<1>(std::move(data_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  template <std::size_t I, class V>
  Result(std::in_place_index_t<I> tag, V&& v) : data_(tag, std::forward<V>(v)) {}

  std::variant<T, E> data_;
};

}  // namespace acd::app
