// libyaml 0.2, found through pkg-config `yaml-0.1` (Debian: libyaml-dev).
#include <yaml.h>
