// DescribeUnparsable and ParseRequest (server/request_parsing.h): a message
// protobuf refuses is named by the path of its first string field that is
// not UTF-8, through nested and repeated messages; other bytes by the type.
#include "server/request_parsing.h"

#include <string>

#include <gtest/gtest.h>

#include "aad/v1/aad.pb.h"
#include "absl/strings/match.h"

namespace aad {
namespace {

grpc::ByteBuffer BufferOf(const std::string& bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

TEST(RequestParsing, NamesANestedRepeatedStringByItsPath) {
  // C++ protobuf serializes a string that is not UTF-8 as it is (and logs).
  v1::ScoreResponse response;
  v1::Explanation* first = response.add_explanations();
  first->add_top()->set_name("ok");
  v1::Explanation* second = response.add_explanations();
  second->add_top()->set_name("fine");
  second->add_top()->set_name(std::string("bad\xe2\x28", 5));
  const std::string bytes = response.SerializeAsString();
  v1::ScoreResponse parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes));
  EXPECT_EQ(DescribeUnparsable(bytes, *v1::ScoreResponse::descriptor()),
            "aad.v1.ScoreResponse.explanations[1].top[1].name is not valid UTF-8, which a "
            "protobuf string must be: 'bad\\xe2(' (5 bytes)");
}

TEST(RequestParsing, QuotesALongBadStringInPart) {
  v1::GetSessionRequest request;
  request.set_session_id(std::string(40, 'a') + "\xff");
  const std::string why =
      DescribeUnparsable(request.SerializeAsString(), *v1::GetSessionRequest::descriptor());
  EXPECT_TRUE(absl::StrContains(why, "'" + std::string(32, 'a') + "'... (41 bytes)")) << why;
}

TEST(RequestParsing, MalformedBytesAreNamedByTheType) {
  // A length-delimited field 1 announcing 9 bytes; 1 follows.
  const std::string bytes("\x0a\x09x", 3);
  EXPECT_EQ(DescribeUnparsable(bytes, *v1::GetSessionRequest::descriptor()),
            "the request's 3 bytes are not a valid aad.v1.GetSessionRequest (protobuf cannot "
            "parse them)");
}

TEST(RequestParsing, ParseRequestParsesAsGrpcWouldOrSaysWhy) {
  v1::IngestRequest batch;
  batch.set_batch_id("b7");
  batch.set_feature_count(2);
  batch.add_values(1.5f);
  batch.add_values(-2.0f);
  v1::IngestRequest parsed;
  ASSERT_TRUE(ParseRequest(BufferOf(batch.SerializeAsString()), &parsed).ok());
  EXPECT_EQ(parsed.batch_id(), "b7");
  EXPECT_EQ(parsed.values_size(), 2);

  batch.set_batch_id(std::string("\xc3", 1));
  const absl::Status refused =
      ParseRequest(BufferOf(batch.SerializeAsString()), &parsed, "ingest message 4");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(refused.message(),
                               "ingest message 4: aad.v1.IngestRequest.batch_id is not valid "
                               "UTF-8"))
      << refused;
}

}  // namespace
}  // namespace aad
