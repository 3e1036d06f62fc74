// Overloaded: combine lambdas into one visitor for std::visit over CoreEvent.
#pragma once

namespace acd::core {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace acd::core
