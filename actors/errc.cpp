#include "actors/errc.hpp"

#include "actors/agents/agent_registry.hpp"
#include "actors/cluster/protocol.hpp"
#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"
#include "actors/health/health_actor.hpp"
#include "actors/leads/lead_scoring.hpp"
#include "actors/llm_actor.hpp"
#include "actors/messages.hpp"
#include "actors/stores/agent_message_store.hpp"
#include "actors/stores/approval_store.hpp"
#include "actors/stores/conversation_store.hpp"
#include "actors/stores/idempotency_store.hpp"
#include "actors/stores/journal_store.hpp"
#include "actors/stores/lead_store.hpp"
#include "actors/stores/run_store.hpp"
#include "actors/stores/shared_memory_store.hpp"
#include "actors/vendor_actor.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

#include <algorithm>

namespace pixelcraft {

std::string to_string(errc x) {
  switch (x) {
  case errc::invalid_argument:
    return "invalid_argument";
  case errc::not_found:
    return "not_found";
  case errc::already_exists:
    return "already_exists";
  case errc::failed_precondition:
    return "failed_precondition";
  case errc::aborted:
    return "aborted";
  case errc::unavailable:
    return "unavailable";
  case errc::deadline_exceeded:
    return "deadline_exceeded";
  case errc::unauthenticated:
    return "unauthenticated";
  case errc::permission_denied:
    return "permission_denied";
  case errc::internal:
    return "internal";
  }
  return "unknown";
}

std::string error_text(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == caf::atom("pixelcraft")) {
    if (!err.context().empty() && err.context().match_element<std::string>(0))
      return err.context().get_as<std::string>(0);
    auto text = to_string(static_cast<errc>(err.code()));
    std::replace(text.begin(), text.end(), '_', ' ');
    return text;
  }
  if (err == caf::sec::request_timeout)
    return "no answer in time";
  if (err == caf::sec::request_receiver_down)
    return "the component asked has stopped";
  if (err.category() == caf::atom("exit"))
    return "stopped";
  if (err.category() == caf::atom("system"))
    return "runtime error (" + caf::to_string(static_cast<caf::sec>(err.code())) + ")";
  return "internal error";
}

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::pixelcraft_actors>();
  cfg.add_message_types<caf::id_block::pixelcraft_cluster>();
  // add_error_category<T> does not compile on 0.17.6 (STACK.md §4): use a renderer.
  cfg.add_error_category(caf::atom("pixelcraft"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto text = "pixelcraft." + to_string(static_cast<errc>(code));
                           return ctx.empty() ? text : text + " " + caf::to_string(ctx);
                         });
}

} // namespace pixelcraft
