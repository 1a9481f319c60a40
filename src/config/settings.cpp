#include <algorithm>
#include <thread>

#include <chokepoint/config/settings.hpp>

namespace chokepoint::config {

void SettingsLayer::override_with(const SettingsLayer& other) {
#define CHOKEPOINT_SETTING_TAKE(field, ...) \
  if (other.field) field = other.field;
  CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_TAKE)
#undef CHOKEPOINT_SETTING_TAKE
}

Settings resolve(const SettingsLayer& file, const SettingsLayer& flags) {
  SettingsLayer merged = file;
  merged.override_with(flags);
  Settings s;
#define CHOKEPOINT_SETTING_APPLY(field, ...)                  \
  if (merged.field) {                                         \
    s.field = *merged.field;                                  \
    s.given_.set(static_cast<std::size_t>(SettingId::field)); \
  }
  CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_APPLY)
#undef CHOKEPOINT_SETTING_APPLY
  // DESIGN.md: with no listener of any kind, explicit on 127.0.0.1:3128. A
  // listener of another kind means the operator chose, so the default goes.
  if (!s.given(SettingId::listen) && (!s.transparent.empty() || !s.tproxy.empty() ||
                                      !s.sni_listen.empty() || !s.socks_listen.empty())) {
    s.listen.clear();
  }
  if (s.threads == 0)
    s.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return s;
}

}  // namespace chokepoint::config
