#pragma once
/// Typed messages between actors (the wire types of the `pixelcraft_actors` block in
/// actors/fwd.hpp). Each has a CAF 0.17 `inspect`, so it crosses nodes as it is; JSON stays at
/// the edges (HTTP bodies, the model and vendor wire, jsonb columns).

#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace pixelcraft {

/// The model server as the last health check saw it (health_actor's `models_atom` reply).
struct model_status {
  bool reachable = false;
  std::vector<std::string> names; ///< empty while reachable: the server lists none (OpenAI)

  /// Whether `model` can be served: reachable and listed (`x` and `x:latest` are the same).
  bool serves(const std::string& model) const {
    if (!reachable)
      return false;
    if (names.empty())
      return true;
    for (const auto& n : names)
      if (n == model || n == model + ":latest" || model == n + ":latest")
        return true;
    return false;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_status& x) {
  return f(caf::meta::type_name("pixelcraft::model_status"), x.reachable, x.names);
}

} // namespace pixelcraft
