// What the core checks in a data set a reader plugin hands it, before anything indexes
// into the arrays: the engine, the objectives and the writers trust a valid CSR matrix.
#pragma once

#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// Features whose square (and so a row's norm or a margin) would overflow a double; a
// value beyond this is refused as bad data rather than trained into inf or 0.
inline constexpr double kMaxFeatureMagnitude = 1e150;

// Checks the CSR structure `reader` returned: array sizes, row pointers from 0, monotone
// and ending at nnz, column indices in [0, cols) and strictly ascending within a row.
// A violation is the reader's bug: PluginError naming the reader, the row and the entry.
// Then the values: non-finite ones are the reader's bug too; finite ones beyond
// kMaxFeatureMagnitude and non-finite or such large labels are the file's: DataError naming the row
// (1-based, which is the line for a LIBSVM file without comments).
void validate_reader_output(const Dataset& data, const std::string& reader,
                            const std::string& path);

}  // namespace localsgd::core
