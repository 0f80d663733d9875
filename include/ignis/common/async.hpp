#pragma once

// How the library's asynchronous operations complete: on the handler's associated executor (or
// the operation's own when it has none), as if by post, so a completion never runs inside the
// function that started the operation, whatever token (callback, use_awaitable, use_future,
// deferred) the caller gave.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>

#include <utility>

namespace ignis::detail {

template <class Handler, class Executor, class... Args>
void post_completion(Handler&& handler, const Executor& fallback, Args&&... args) {
  auto ex = boost::asio::get_associated_executor(handler, fallback);
  boost::asio::post(
      ex, [h = std::forward<Handler>(handler), ... a = std::forward<Args>(args)]() mutable {
        std::move(h)(std::move(a)...);
      });
}

}  // namespace ignis::detail
