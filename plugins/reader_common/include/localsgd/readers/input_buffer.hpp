// The buffers a reader parses from. Parsers scan without bounds checks, relying on one
// '\n' sentinel past the text: every line, including an unterminated last one, then ends
// in a newline, and every scan stops inside the buffer.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace localsgd::readers {

// The whole input, followed by the '\n' sentinel.
struct InputBuffer {
  std::shared_ptr<char> bytes;  // heap memory or a private file mapping, freed accordingly
  std::size_t size = 0;         // text bytes, sentinel excluded
  std::string name;             // how errors name the input: the path, or "<stdin>"
};

// A byte buffer that grows by doubling and always keeps one spare byte for the sentinel:
// for input whose size is not known in advance (a pipe, decompressed text).
class ByteBuffer {
 public:
  explicit ByteBuffer(std::size_t capacity)
      : bytes_(std::make_unique_for_overwrite<char[]>(capacity + 1)), capacity_(capacity) {}

  char* tail() { return bytes_.get() + size_; }
  std::size_t room() const { return capacity_ - size_; }
  void grew_by(std::size_t n) { size_ += n; }
  void make_room() {
    if (room() > 0) return;
    capacity_ *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity_ + 1);
    std::memcpy(bigger.get(), bytes_.get(), size_);
    bytes_ = std::move(bigger);
  }
  std::string_view view() const { return {bytes_.get(), size_}; }

  // Writes the sentinel and hands the bytes over.
  InputBuffer finish(std::string name) && {
    bytes_[size_] = '\n';
    return {std::shared_ptr<char>(bytes_.release(), std::default_delete<char[]>()), size_,
            std::move(name)};
  }

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

}  // namespace localsgd::readers
