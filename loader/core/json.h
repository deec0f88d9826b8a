// A small streaming JSON writer for the --json outputs: keys in the order
// written, numbers as integers, strings escaped. Enough for flat reports; no
// parser (nothing in xdpflow reads JSON).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace xdpflow {

class JsonWriter {
public:
  JsonWriter &begin_object();
  JsonWriter &end_object();
  JsonWriter &begin_array();
  JsonWriter &end_array();
  // Inside an object: the next value's key.
  JsonWriter &key(std::string_view k);
  JsonWriter &value(std::string_view s);
  JsonWriter &value(const char *s) { return value(std::string_view(s)); }
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonWriter &value(T n) {
    if constexpr (std::is_signed_v<T>)
      return number(std::to_string(static_cast<long long>(n)));
    else
      return number(std::to_string(static_cast<unsigned long long>(n)));
  }
  JsonWriter &value(bool b);
  JsonWriter &value(double d);
  JsonWriter &null();
  // key + value in one call.
  template <typename T> JsonWriter &field(std::string_view k, const T &v) {
    key(k);
    return value(v);
  }

  const std::string &str() const { return out_; }

private:
  JsonWriter &number(const std::string &digits);
  void separate();
  std::string out_;
  std::vector<bool> first_; // per open container: nothing written yet
  bool after_key_ = false;
};

std::string json_escape(std::string_view s);

} // namespace xdpflow
