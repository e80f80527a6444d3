// Errors in words (actors/errc.hpp): what a workflow's error_message, a journal entry or a log
// row shows.
#include "actors/errc.hpp"

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include <gtest/gtest.h>

using namespace pixelcraft;

TEST(ErrcTest, ErrorTextIsOurMessageOrTheKindOfFailureNeverCafsRendering) {
  EXPECT_EQ(error_text(caf::make_error(errc::unavailable, "model server unreachable")),
            "model server unreachable");
  EXPECT_EQ(error_text(caf::make_error(errc::deadline_exceeded)), "deadline exceeded");
  EXPECT_EQ(error_text(caf::make_error(caf::sec::request_timeout)), "no answer in time");
  EXPECT_EQ(error_text(caf::make_error(caf::sec::request_receiver_down)),
            "the component asked has stopped");
  EXPECT_EQ(error_text(caf::make_error(caf::exit_reason::user_shutdown)), "stopped");
  EXPECT_EQ(error_text(caf::make_error(caf::sec::unexpected_message)),
            "runtime error (unexpected_message)");
  EXPECT_EQ(error_text(caf::error{}), "no error");
  for (const auto& e : {caf::make_error(errc::unavailable, "x"), caf::make_error(errc::internal),
                        caf::make_error(caf::sec::request_timeout)})
    EXPECT_EQ(error_text(e).find("error("), std::string::npos) << caf::to_string(e);
}
