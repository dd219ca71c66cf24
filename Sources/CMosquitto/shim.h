// libmosquitto 2.0, found through pkg-config `libmosquitto` (Debian: libmosquitto-dev).
#include <mosquitto.h>
#include <mqtt_protocol.h>
