#pragma once
/// Polling for tests that wait on something asynchronous (bounded, never a bare sleep).

#include <chrono>
#include <thread>

namespace pixelcraft::test {

/// Calls `f` every 50 ms until it returns true or `seconds` pass; returns its last answer.
template <class F> bool eventually(F f, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (f())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return f();
}

} // namespace pixelcraft::test
