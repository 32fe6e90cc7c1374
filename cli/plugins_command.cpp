// `localsgd plugins list`, `localsgd plugins info NAME` and `localsgd plugins new NAME`.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string_view>

#include "commands.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "plugin_scaffold.hpp"

namespace localsgd::cli {
namespace {

// One line per plugin: kind, name, version, the file it loads from, description.
void list_plugins() {
  const auto plugins = core::discover_plugins();
  std::size_t name_width = 4, version_width = 7, file_width = 4;
  for (const core::PluginListing& p : plugins) {
    if (!p.manifest) continue;
    name_width = std::max(name_width, std::string_view(p.manifest->name).size());
    version_width = std::max(version_width, std::string_view(p.manifest->version).size());
    file_width = std::max(file_width, p.path.string().size());
  }
  const auto column = [](std::size_t width) { return static_cast<int>(width) + 2; };
  std::cout << std::left << std::setw(11) << "KIND" << std::setw(column(name_width)) << "NAME"
            << std::setw(column(version_width)) << "VERSION" << std::setw(column(file_width))
            << "FILE"
            << "DESCRIPTION\n";
  for (const core::PluginListing& p : plugins) {
    if (p.manifest == nullptr) {
      std::cerr << "localsgd: warning: skipped " << p.path.string() << ": " << p.problem << '\n';
      continue;
    }
    std::cout << std::setw(11) << to_string(p.manifest->kind) << std::setw(column(name_width))
              << p.manifest->name << std::setw(column(version_width)) << p.manifest->version
              << std::setw(column(file_width)) << p.path.string() << p.manifest->description
              << '\n';
  }
}

void show_plugin(const std::string& name) {
  const Manifest* found = nullptr;
  for (PluginKind kind : {PluginKind::objective, PluginKind::reader, PluginKind::schedule}) {
    try {
      found = &core::load_plugin(name, kind);
      break;
    } catch (const PluginError&) {
      // a plugin of another kind, or unknown: try the next kind, report below
    }
  }
  if (found == nullptr) core::load_plugin(name, PluginKind::objective);  // throws the message
  std::cout << found->name << " " << found->version << " (" << to_string(found->kind)
            << " plugin)\n  " << found->description << '\n';
  if (const auto& suffixes = core::reader_suffixes(*found); !suffixes.empty()) {
    std::cout << "reads files named *" << suffixes.front();
    for (std::size_t i = 1; i < suffixes.size(); ++i) std::cout << ", *" << suffixes[i];
    std::cout << " without --reader\n";
  }
  if (found->param_count == 0) return;
  std::cout << "parameters:\n";
  for (std::size_t i = 0; i < found->param_count; ++i)
    std::cout << "  " << std::left << std::setw(14) << found->params[i].name << "default "
              << std::setw(8) << found->params[i].default_value << "  " << found->params[i].meaning
              << '\n';
}

}  // namespace

void set_plugins_command(CLI::App& app) {
  CLI::App* plugins =
      app.add_subcommand("plugins", "List plugins, show one's parameters, or start a new one");
  plugins->require_subcommand(1);
  plugins->add_subcommand("list", "Kind, name, version and description of every plugin found")
      ->callback(list_plugins);
  CLI::App* info = plugins->add_subcommand("info", "A plugin's description and parameters");
  auto name = std::make_shared<std::string>();
  info->add_option("name", *name, "plugin name or path to a .so")->required();
  info->callback([name] { show_plugin(*name); });

  struct NewFlags {
    std::string name, kind, dir = ".";
  };
  auto flags = std::make_shared<NewFlags>();
  CLI::App* create = plugins->add_subcommand(
      "new", "Write an out-of-tree plugin project (CMake, a working example, its test)");
  create->add_option("name", flags->name, "the plugin's name (its .so and --plugin NAME)")
      ->required();
  create->add_option("--kind", flags->kind, "objective, reader or schedule")
      ->required()
      ->check(CLI::IsMember({"objective", "reader", "schedule"}));
  create->add_option("--dir", flags->dir, "where to create NAME/")->capture_default_str();
  create->callback([flags] {
    const PluginKind kind = flags->kind == "objective" ? PluginKind::objective
                            : flags->kind == "reader"  ? PluginKind::reader
                                                       : PluginKind::schedule;
    const auto dir = write_plugin_project(flags->name, kind, flags->dir);
    std::cout << "wrote " << (dir / "CMakeLists.txt").string() << ", "
              << (dir / (flags->name + ".cpp")).string() << " and "
              << (dir / (flags->name + "_test.cpp")).string() << "\nbuild and test it:\n"
              << "  cmake -S " << dir.string() << " -B " << (dir / "build").string()
              << " -DCMAKE_PREFIX_PATH=<localsgd's install prefix>\n"
              << "  cmake --build " << (dir / "build").string() << " && ctest --test-dir "
              << (dir / "build").string() << "\n";
  });
}

}  // namespace localsgd::cli
