// Reader for the LIBSVM / svmlight text format, as real files write it:
//
//   <label> [qid:<n>] <index>:<value> <index>:<value> ...   # optional comment
//
// Labels are any finite real ("+1", "-1.0", "3", "1e0"); indices are strictly ascending
// integers (1-based unless zero_based says otherwise); explicit zeros are kept as stored
// entries; a row may hold a label only. Blank and comment-only lines are skipped, CRLF
// and tabs are fine, and so is a missing final newline. A qid (svmlight's ranking group)
// is accepted and ignored, because training here treats every row as an independent
// sample.
//
// Input: a file read in one call, "-" for standard input, and .gz/.xz/.bz2 files
// decompressed on the way in (input.hpp). Large inputs are parsed in parallel chunks
// (parallel_parse.hpp) with exactly the serial result, errors included.
#include <localsgd/sdk.hpp>

#include <string>

#include "input.hpp"
#include "parallel_parse.hpp"

namespace {

using localsgd::libsvm::IndexBase;

IndexBase parse_index_base(const localsgd::ParamMap& params) {
  if (params.text("zero_based", "false") == "auto") return IndexBase::kAuto;
  try {
    return params.boolean("zero_based", false) ? IndexBase::kZero : IndexBase::kOne;
  } catch (const localsgd::ParamError&) {
    throw localsgd::ParamError("parameter zero_based=" + params.text("zero_based", "") +
                               ": expected true, false or auto");
  }
}

std::size_t parse_chunk_bytes(const localsgd::ParamMap& params) {
  if (params.text("chunk_bytes", "auto") == "auto") return 0;
  const std::int64_t bytes = params.integer("chunk_bytes", 0);
  if (bytes <= 0) {
    throw localsgd::ParamError("parameter chunk_bytes=" + params.text("chunk_bytes", "") +
                               ": expected auto or a positive number of bytes");
  }
  return static_cast<std::size_t>(bytes);
}

class LibsvmReader final : public localsgd::Reader {
 public:
  explicit LibsvmReader(const localsgd::ParamMap& params)
      : options_{parse_index_base(params), parse_chunk_bytes(params)} {}

  localsgd::Dataset read(const localsgd::ReadRequest& request) const override {
    if (request.path.empty()) {
      throw localsgd::DataError("", 0, 0, "libsvm reader needs a file (--data FILE)");
    }
    const localsgd::libsvm::InputBuffer input = localsgd::libsvm::read_input(request.path);
    if (request.select_rows)
      return localsgd::libsvm::parse_buffer_selected(input.bytes.get(), input.size, input.name,
                                                     options_, request.select_rows);
    return localsgd::libsvm::parse_buffer(input.bytes.get(), input.size, input.name, options_);
  }

 private:
  localsgd::libsvm::ParseOptions options_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"zero_based", "false",
     "false: indices start at 1 (LIBSVM), index 0 is an error; true: they start at 0; "
     "auto: 0-based if any index 0 appears (as scikit-learn)"},
    {"chunk_bytes", "auto",
     "bytes per piece parsed in parallel (auto: 1 MiB pieces on several threads, one piece "
     "on one); never changes the result"},
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<LibsvmReader>(
    "libsvm", "1.1.0",
    "LIBSVM/svmlight text (.gz/.xz/.bz2 too, '-' = stdin): 'label idx:val ...' rows, "
    "'#' comments, qid:N accepted and ignored",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
