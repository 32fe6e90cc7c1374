// Everything a plugin author needs: include this one header.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include "localsgd/abi.hpp"
#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"
#include "localsgd/gradient_check.hpp"
#include "localsgd/linear_algebra.hpp"
#include "localsgd/linear_model.hpp"
#include "localsgd/manifest.hpp"
#include "localsgd/multiclass.hpp"
#include "localsgd/objective.hpp"
#include "localsgd/params.hpp"
#include "localsgd/reader.hpp"
#include "localsgd/schedule.hpp"
