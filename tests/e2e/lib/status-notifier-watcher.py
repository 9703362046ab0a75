#!/usr/bin/python3
"""A StatusNotifierWatcher on the session bus, standing in for a desktop's tray host in the
tray test (tests/e2e/tray.test.mjs): tray icons register with it as they do with KDE's or
GNOME's, and it prints each one as "BUS_NAME OBJECT_PATH" on a line, after "ready" once it owns
its name. It only records: the test reads the item's menu over D-Bus itself.

Run with Debian's python3 (python3-gi), under the test's private session bus.
"""

import sys

from gi.repository import Gio, GLib

INTERFACE = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"
XML = f"""
<node>
  <interface name="{INTERFACE}">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>
"""

items = []


def method_call(connection, sender, _path, _interface, method, parameters, invocation):
    if method == "RegisterStatusNotifierItem":
        (service,) = parameters.unpack()
        # An item names either its object path (its bus name is the caller's) or its bus name
        # (its object is at the conventional path).
        if service.startswith("/"):
            bus_name, object_path = sender, service
        else:
            bus_name, object_path = service, "/StatusNotifierItem"
        items.append(bus_name + object_path)
        print(bus_name, object_path, flush=True)
        connection.emit_signal(None, PATH, INTERFACE, "StatusNotifierItemRegistered",
                               GLib.Variant("(s)", (bus_name + object_path,)))
    invocation.return_value(None)


def get_property(_connection, _sender, _path, _interface, name):
    if name == "RegisteredStatusNotifierItems":
        return GLib.Variant("as", items)
    if name == "IsStatusNotifierHostRegistered":
        return GLib.Variant("b", True)
    return GLib.Variant("i", 0)


def bus_acquired(connection, _name):
    node = Gio.DBusNodeInfo.new_for_xml(XML)
    connection.register_object(PATH, node.interfaces[0], method_call, get_property, None)


def name_acquired(_connection, _name):
    print("ready", flush=True)


def name_lost(_connection, _name):
    print("cannot own org.kde.StatusNotifierWatcher", file=sys.stderr, flush=True)
    sys.exit(1)


Gio.bus_own_name(Gio.BusType.SESSION, INTERFACE, Gio.BusNameOwnerFlags.NONE,
                 bus_acquired, name_acquired, name_lost)
GLib.MainLoop().run()
