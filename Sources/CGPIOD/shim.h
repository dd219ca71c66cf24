// libgpiod 1.6 (v1 API), found through pkg-config `libgpiod` (Debian: libgpiod-dev).
#include <gpiod.h>
