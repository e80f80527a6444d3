#pragma once
/// A cheap HTTP GET used by health checks; implemented by integrations/ (libcurl).
///
/// - Spawned `caf::detached` by app/ through `integrations::spawn_probe` (one per service, so a
///   slow vendor never delays another's check). Lives until the system shuts down.
/// - Only GET, no redirects, the given timeout on connect and on the whole transfer; the body is
///   read up to 256 KiB. The bearer token is sent as `Authorization: Bearer` and never logged.

#include "actors/fwd.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

using probe_actor = caf::typed_actor<
    /// In: URL, bearer token (empty: none), timeout in ms. Reply: HTTP status, body.
    /// Fails with `errc::unavailable` (connection, TLS or timeout failure; the text says which).
    caf::replies_to<probe_atom, std::string, std::string, uint32_t>::with<int32_t, std::string>>;

} // namespace pixelcraft
