#include "secrets.hpp"

#include "text_list.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using ignis::program::constant_time_equal;
using ignis::program::load_secrets;
using ignis::program::settings;

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("s3cret-key", "s3cret-key"));
  EXPECT_FALSE(constant_time_equal("s3cret-key", "s3cret-kez"));
  EXPECT_FALSE(constant_time_equal("s3cret-key", "s3cret-ke"));
  EXPECT_FALSE(constant_time_equal("s3cret-key", "s3cret-key "));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
}

class SecretFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ignis-secrets-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(SecretFiles, ContentWithoutTrailingLineBreaks) {
  settings cfg;
  cfg.jwt_secret_file = write("jwt", "the secret\r\n\n");
  cfg.api_key_file = write("api", "key with spaces \n");
  cfg.tokens_file = write("tokens", "one\ntwo, three\r\n\nfour\n");
  ASSERT_EQ(load_secrets(cfg), std::nullopt);
  EXPECT_EQ(cfg.jwt_secret, "the secret");
  EXPECT_EQ(cfg.api_key, "key with spaces ");
  EXPECT_EQ(ignis::program::split_list(cfg.tokens),
            (std::vector<std::string>{"one", "two", "three", "four"}));
}

TEST_F(SecretFiles, UnreadableOrEmptyFilesAreNamed) {
  settings missing;
  missing.api_key_file = (dir_ / "nope").string();
  EXPECT_EQ(load_secrets(missing), "--api-key-file: cannot read " + missing.api_key_file);
  settings empty;
  empty.jwt_secret_file = write("empty", "\n");
  EXPECT_EQ(load_secrets(empty), "--jwt-secret-file: " + empty.jwt_secret_file + " is empty");
  settings no_token;
  no_token.tokens_file = write("commas", " , \n,\n");
  EXPECT_EQ(load_secrets(no_token), "--tokens-file: " + no_token.tokens_file + " holds no token");
}

TEST_F(SecretFiles, PublicKeyMustBeAnRsaPublicKey) {
  settings missing;
  missing.jwt_public_key = (dir_ / "absent.pem").string();
  EXPECT_EQ(load_secrets(missing), "--jwt-public-key: cannot read " + missing.jwt_public_key);
  settings garbage;
  garbage.jwt_public_key = write("garbage.pem", "-----BEGIN PUBLIC KEY-----\nnot base64\n");
  EXPECT_EQ(load_secrets(garbage),
            "--jwt-public-key: " + garbage.jwt_public_key + " holds no RSA public key (PEM)");
  settings directory;
  directory.jwt_public_key = dir_.string();
  EXPECT_TRUE(load_secrets(directory).has_value());
}

}  // namespace
