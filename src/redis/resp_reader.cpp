#include "redis/resp_reader.hpp"

#include <ignis/redis/error.hpp>

#include <climits>
#include <hiredis/hiredis.h>

#include <memory>
#include <new>

namespace ignis::redis::detail {
namespace {

// hiredis builds the reply tree through these callbacks: each returns the object it made, which
// for a child is the slot in its parent's element vector. Only the root is heap-allocated and
// owned (freeObject is called on roots only). Nothing may throw through the C code, so allocation
// failures become a NULL return, which hiredis turns into a reader error.
reply* place(const redisReadTask* task, reply&& value) noexcept {
  try {
    if (task->parent != nullptr) {
      auto* parent = static_cast<reply*>(task->parent->obj);
      // hiredis fills elements in order; growing lazily keeps a forged "*2000000000" from
      // allocating anything before the elements actually arrive.
      if (static_cast<std::size_t>(task->idx) != parent->elements.size()) return nullptr;
      parent->elements.push_back(std::move(value));
      return &parent->elements.back();
    }
    return new reply(std::move(value));
  } catch (...) {
    return nullptr;
  }
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  reply r;
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      r.type = reply::kind::error;
      break;
    case REDIS_REPLY_STATUS:
      r.type = reply::kind::status;
      break;
    default:
      r.type = reply::kind::string;
      break;
  }
  try {
    r.str.assign(str, len);
  } catch (...) {
    return nullptr;
  }
  return place(task, std::move(r));
}

void* create_array(const redisReadTask* task, int elements) {
  if (elements < 0) return nullptr;
  reply r;
  r.type = reply::kind::array;
  try {
    r.elements.reserve(static_cast<std::size_t>(std::min(elements, 64)));
  } catch (...) {
    return nullptr;
  }
  return place(task, std::move(r));
}

void* create_integer(const redisReadTask* task, long long value) {
  reply r;
  r.type = reply::kind::integer;
  r.integer = value;
  return place(task, std::move(r));
}

void* create_nil(const redisReadTask* task) {
  reply r;
  r.type = reply::kind::nil;
  return place(task, std::move(r));
}

void free_object(void* obj) {
  delete static_cast<reply*>(obj);
}

redisReplyObjectFunctions reply_functions = {create_string, create_array, create_integer,
                                             create_nil, free_object};

}  // namespace

void resp_reader::reader_deleter::operator()(redisReader* r) const noexcept {
  redisReaderFree(r);
}

resp_reader::resp_reader(std::size_t max_buffered) : max_buffered_(max_buffered) {
  reset();
}

void resp_reader::reset() {
  reader_.reset(redisReaderCreateWithFunctions(&reply_functions));
  if (!reader_) throw std::bad_alloc();
  failed_ = false;
}

error_code resp_reader::feed(std::string_view bytes) {
  auto* r = reader_.get();
  if (failed_ || r->err != 0) {
    failed_ = true;
    return make_error_code(error::protocol_error);
  }
  if (bytes.empty()) return {};
  if (r->len - r->pos + bytes.size() > max_buffered_) {
    failed_ = true;
    return make_error_code(error::protocol_error);
  }
  if (redisReaderFeed(r, bytes.data(), bytes.size()) != REDIS_OK) {
    failed_ = true;
    return make_error_code(error::protocol_error);
  }
  return {};
}

result<std::optional<reply>> resp_reader::next() {
  auto* r = reader_.get();
  if (failed_) return make_error_code(error::protocol_error);
  void* obj = nullptr;
  if (redisReaderGetReply(r, &obj) != REDIS_OK) {
    failed_ = true;
    return make_error_code(error::protocol_error);
  }
  if (obj == nullptr) return std::optional<reply>{};
  std::unique_ptr<reply> owned(static_cast<reply*>(obj));
  return std::optional<reply>{std::move(*owned)};
}

std::string_view resp_reader::error_text() const noexcept {
  const auto* r = reader_.get();
  if (r->err != 0) return r->errstr;
  return failed_ ? "input over the reader's buffer limit" : "";
}

}  // namespace ignis::redis::detail
