#include "http/api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

using namespace pixelcraft::http;

// The served document must describe exactly the routes the server serves.
TEST(OpenApiTest, DocumentMatchesTheRouteTable) {
  api_options opts; // handles stay invalid: only the route table is used
  api a{opts};
  auto doc = nlohmann::json::parse(api::openapi());
  ASSERT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
  std::set<std::pair<std::string, std::string>> documented, served;
  std::set<std::string> ids;
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      documented.emplace(m, path);
      EXPECT_TRUE(op.contains("responses")) << m << " " << path;
      // Client generators name their methods after it (API.md §15).
      ASSERT_TRUE(op.contains("operationId")) << m << " " << path;
      EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second)
          << "operationId used twice: " << op["operationId"];
    }
  for (auto& r : a.routes())
    served.insert(r);
  for (auto& r : served)
    EXPECT_TRUE(documented.count(r)) << "served but not documented: " << r.first << " " << r.second;
  for (auto& r : documented)
    EXPECT_TRUE(served.count(r)) << "documented but not served: " << r.first << " " << r.second;
}

TEST(OpenApiTest, EveryReferenceResolves) {
  auto doc = nlohmann::json::parse(api::openapi());
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      if (j.contains("$ref")) {
        auto ref = j["$ref"].get<std::string>();
        ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
        EXPECT_NO_THROW(doc.at(nlohmann::json::json_pointer(ref.substr(1)))) << ref;
      }
      for (auto& [k, v] : j.items())
        walk(v);
    } else if (j.is_array()) {
      for (auto& v : j)
        walk(v);
    }
  };
  walk(doc);
}
