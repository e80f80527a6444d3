#pragma once
/// The one deadline policy for requests between actors. Every request has a finite timeout
/// taken from here, and an outer deadline is always longer than the inner ones it waits for
/// (by `margin`), so the innermost party times out first and says why:
///
///   HTTP request (`REQUEST_TIMEOUT_S`, 504 after it)
///     > agent turn (the budget the turn carries: the HTTP deadline - margin)
///       > one model call (min(`LLM_TIMEOUT_S`, what is left of the turn - margin), enforced by
///         the model client itself, queueing and retries included; the agent waits + margin)
///       > one tool call (the tool actor's own vendor bounds; the agent waits what is left)
///   database request: statement timeout (`DB_TIMEOUT_MS`) + connect and queueing = `db()`
///   a write through the commit lanes (a step save, a lead submit, opening a conversation):
///   `db_lane()` > two batches (`db_batch()`, the pool's bound on one)
///   a peer agent acknowledging a message: `peer` (agents never await, so this is mailbox time)
///
/// A request carries its deadline as a budget (milliseconds left when it was sent), so it
/// means the same on another node whose clock differs.

#include <algorithm>
#include <chrono>

namespace pixelcraft::deadlines {

using ms = std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

/// The lead an outer deadline keeps over the inner one it waits for.
inline constexpr ms margin{1000};
/// Less than this left: work is not started (it could not finish).
inline constexpr ms min_work{100};
/// A peer's acknowledgement of an agent message (no IO on that path).
inline constexpr ms peer{10000};
/// The longest budget a request may carry (`REQUEST_TIMEOUT_S` and step timeouts are <= 1 h).
inline constexpr ms max_budget{3600 * 1000};
/// The most one tool call may take: the tool actor bounds each vendor call far below this
/// (connect + request timeouts, retries); a turn's own deadline usually ends it first.
inline constexpr ms tool_backstop{300 * 1000};

/// A database request: the statement timeout, plus a (re)connect attempt and pool queueing.
inline ms db(unsigned db_timeout_ms) {
  return ms(db_timeout_ms) + ms(4000);
}
/// One commit-lane batch on its worker (persistence/pg_pool: up to 256 writes, each statement
/// bounded by the statement timeout): the pool's own bound on a batch.
inline ms db_batch(unsigned db_timeout_ms) {
  return 4 * ms(db_timeout_ms) + ms(5000);
}
/// A write that goes through the commit lanes: it may wait for the batch ahead of it, then
/// runs in its own (`db_batch` each), so its caller waits longer than both.
inline ms db_lane(unsigned db_timeout_ms) {
  return 2 * db_batch(db_timeout_ms) + margin;
}

/// The deadline of a whole HTTP request (`REQUEST_TIMEOUT_S`).
inline ms http_request(unsigned request_timeout_s) {
  return std::chrono::seconds(request_timeout_s);
}

/// The budget of work done for a caller that gives up after `outer`.
inline ms inner(ms outer) {
  return outer > 2 * margin ? outer - margin : outer / 2;
}

/// A point in time a request must be answered by, on this node's steady clock.
class deadline {
public:
  deadline() = default;
  /// `budget` from now.
  static deadline in(ms budget) {
    deadline d;
    d.at_ = clock_type::now() + budget;
    return d;
  }
  /// Time left (zero once passed).
  ms left() const {
    return std::max(ms::zero(), std::chrono::duration_cast<ms>(at_ - clock_type::now()));
  }
  bool passed() const { return left() == ms::zero(); }
  /// The budget of a call made now that must end before this deadline, at most `cap`.
  ms budget_for(ms cap) const { return std::min(cap, inner(left())); }

private:
  clock_type::time_point at_ = clock_type::now();
};

} // namespace pixelcraft::deadlines
