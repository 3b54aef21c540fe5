#include "k3sjoin/config/token.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace k3sjoin::config {
namespace {

const std::string kHash = "8b1bfc7b4f4c4a2e9f3d5c6b7a8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f901";
const std::string kPassword = "5f0e6a1c2b3d4e5f6a7b8c9d0e1f2a3b";
const std::string kServerToken = "K10" + kHash + "::server:" + kPassword;

TEST(ParseToken, ServerToken) {
  Result<JoinToken> token = parse_token(kServerToken);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->text().view(), kServerToken);
  EXPECT_EQ(token->ca_hash(), kHash);
  EXPECT_EQ(token->username(), "server");
  EXPECT_FALSE(token->bootstrap());
}

TEST(ParseToken, NodeToken) {
  Result<JoinToken> token = parse_token("K10" + kHash + "::node:" + kPassword);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->username(), "node");
}

TEST(ParseToken, BootstrapToken) {
  const std::string text = "K10" + kHash + "::abcdef.0123456789abcdef";
  Result<JoinToken> token = parse_token(text);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_TRUE(token->bootstrap());
  EXPECT_EQ(token->username(), "");
  EXPECT_EQ(token->text().view(), text);
}

TEST(ParseToken, SecretPartOfPasswordTokenIsThePassword) {
  Result<JoinToken> token = parse_token(kServerToken);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->secret_part(), kPassword);
  EXPECT_EQ(token->bootstrap_id(), "");
}

TEST(ParseToken, SecretPartOfBootstrapTokenIsTheSecret) {
  Result<JoinToken> token = parse_token("K10" + kHash + "::abcdef.0123456789abcdef\n");
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->secret_part(), "0123456789abcdef");
  EXPECT_EQ(token->bootstrap_id(), "abcdef");
}

TEST(ParseToken, SecretPartKeepsColonsInPassword) {
  Result<JoinToken> token = parse_token("K10" + kHash + "::node:pass:word");
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->secret_part(), "pass:word");
}

TEST(ParseToken, EmptyTokenHasNoSecretPart) {
  const JoinToken token;
  EXPECT_EQ(token.secret_part(), "");
  EXPECT_EQ(token.bootstrap_id(), "");
}

TEST(ParseToken, TrimsWhiteSpaceAndNewline) {
  Result<JoinToken> token = parse_token("  \t" + kServerToken + "\r\n\n");
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->text().view(), kServerToken);
}

TEST(ParseToken, LowerCasesUpperCaseHash) {
  std::string upper = kHash;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'f') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  Result<JoinToken> token = parse_token("K10" + upper + "::server:" + kPassword);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->ca_hash(), kHash);
  EXPECT_EQ(token->text().view(), kServerToken);
}

struct BadToken {
  std::string name;
  std::string text;
  std::string message;
};

// Prints only the case name, so a failure report does not dump the struct's bytes.
void PrintTo(const BadToken& bad, std::ostream* out) {
  *out << bad.name;
}

class ParseTokenError : public testing::TestWithParam<BadToken> {};

TEST_P(ParseTokenError, MessageAndKind) {
  const BadToken& bad = GetParam();
  Result<JoinToken> token = parse_token(bad.text);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().kind, ErrorKind::config);
  EXPECT_EQ(token.error().message, bad.message);
  EXPECT_FALSE(token.error().hint.empty());
  // No message or hint may repeat the password or the bootstrap secret.
  for (const std::string& secret :
       {kPassword, std::string("0123456789abcdef"), std::string("hunter2")}) {
    EXPECT_EQ(token.error().message.find(secret), std::string::npos);
    EXPECT_EQ(token.error().hint.find(secret), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ParseTokenError,
    testing::Values(
        BadToken{"Empty", " \n", "node token is empty"},
        BadToken{"LegacyPassword", kPassword,
                 "node token is not in secure format: missing the \"K10\" prefix"},
        BadToken{"LowerCasePrefix", "k10" + kHash + "::server:" + kPassword,
                 "node token is not in secure format: missing the \"K10\" prefix"},
        BadToken{"NoSeparator", "K10" + kHash + "server:" + kPassword,
                 "node token is not in secure format: missing \"::\" after the CA hash"},
        BadToken{"ShortHash", "K10abcdef012345::server:" + kPassword,
                 "CA hash has 12 characters, expected 64 hex characters"},
        BadToken{"LongHash", "K10" + kHash + "00::server:" + kPassword,
                 "CA hash has 66 characters, expected 64 hex characters"},
        BadToken{"NonHexHash",
                 "K10" + kHash.substr(0, 10) + "g" + kHash.substr(11) + "::server:" + kPassword,
                 "CA hash has a non-hex character at position 11, expected 64 hex characters"},
        BadToken{"EmptyCredentials", "K10" + kHash + "::", "credentials after \"::\" are empty"},
        BadToken{"EmptyUser", "K10" + kHash + "::" + ":" + kPassword,
                 "credentials after \"::\" have an empty user name before \":\""},
        BadToken{"EmptyPassword", "K10" + kHash + "::server:",
                 "credentials after \"::\" have an empty password after \":\""},
        BadToken{"BootstrapUpperCase", "K10" + kHash + "::ABCDEF.0123456789abcdef",
                 "credentials after \"::\" are neither <user>:<password> nor a bootstrap token "
                 "of the form <6 characters>.<16 characters> made of [a-z0-9]"},
        BadToken{"BootstrapShortSecret", "K10" + kHash + "::abcdef.0123456789abcde",
                 "credentials after \"::\" are neither <user>:<password> nor a bootstrap token "
                 "of the form <6 characters>.<16 characters> made of [a-z0-9]"},
        BadToken{"PasswordOnly", "K10" + kHash + "::hunter2",
                 "credentials after \"::\" are neither <user>:<password> nor a bootstrap token "
                 "of the form <6 characters>.<16 characters> made of [a-z0-9]"},
        BadToken{"TwoTokens", kServerToken + "\n" + kServerToken,
                 "node token contains white space or a control character at position 109; the "
                 "token is a single word"},
        BadToken{"SpaceInPassword", "K10" + kHash + "::server:hunter2 " + kPassword,
                 "node token contains white space or a control character at position 84; the "
                 "token is a single word"}),
    [](const testing::TestParamInfo<BadToken>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace k3sjoin::config
