import CGPIOD
#if canImport(Glibc)
import Glibc
#endif

/// An open GPIO chip (`/dev/gpiochipN`) through libgpiod 1.6's v1 API.
///
/// Every libgpiod call goes through one of the small functions at the end of this file, which
/// turn its return code into `GPIOError.operationFailed(op, errno)`.
public final class GPIOChip: @unchecked Sendable {
    // A chip and its lines are used by one thread at a time: the owner sets them up, then the
    // input reader thread or the output's caller (serialised by the controller) uses them.
    let handle: OpaquePointer
    public let name: String

    /// Opens a chip by name (`gpiochip0`), path (`/dev/gpiochip0`), number or label.
    public init(_ name: String) throws {
        self.name = name
        handle = try gpiodChipOpenLookup(name)
    }

    deinit {
        gpiod_chip_close(handle)
    }

    /// The line at `offset`, not yet requested.
    func line(_ offset: UInt32) throws -> OpaquePointer {
        try gpiodChipGetLine(handle, offset)
    }

    /// Requests an output line, driven to `initial` at once.
    public func requestOutput(offset: UInt32, activeLow: Bool, initial: Bool, consumer: String) throws -> GPIOOutputLine {
        let line = try line(offset)
        let flags = activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        try gpiodLineRequest(line, consumer: consumer, type: Int32(GPIOD_LINE_REQUEST_DIRECTION_OUTPUT),
                             flags: flags, defaultValue: initial ? 1 : 0)
        return GPIOOutputLine(chip: self, line: line, offset: offset)
    }

    /// Requests an input line for both-edge events with its bias and polarity.
    func requestEvents(_ config: InputLineConfig, consumer: String) throws -> OpaquePointer {
        let line = try line(config.offset)
        var flags: Int32 = config.activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        switch config.bias {
        case .asIs: break
        case .disable: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        try gpiodLineRequest(line, consumer: consumer, type: Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES),
                             flags: flags, defaultValue: 0)
        return line
    }
}

/// A requested output line (the lamp relay). Released when dropped.
public final class GPIOOutputLine: SwitchOutput, @unchecked Sendable {
    private let chip: GPIOChip  // keeps the chip open as long as the line is used
    private let line: OpaquePointer
    public let offset: UInt32

    init(chip: GPIOChip, line: OpaquePointer, offset: UInt32) {
        self.chip = chip
        self.line = line
        self.offset = offset
    }

    deinit {
        // Releasing leaves the line where it is on the Raspberry Pi: the relay keeps the lamp as it
        // was when the daemon stops (the schedule's level), it does not drop to off.
        gpiod_line_release(line)
    }

    public func set(_ on: Bool) throws {
        try gpiodLineSetValue(line, on ? 1 : 0)
    }
}

// MARK: - libgpiod calls, one function each, return codes to errors

func gpiodChipOpenLookup(_ name: String) throws -> OpaquePointer {
    guard let chip = gpiod_chip_open_lookup(name) else { throw GPIOError.operationFailed("gpiod_chip_open_lookup(\(name))", errno) }
    return chip
}

func gpiodChipGetLine(_ chip: OpaquePointer, _ offset: UInt32) throws -> OpaquePointer {
    guard let line = gpiod_chip_get_line(chip, offset) else {
        throw GPIOError.operationFailed("gpiod_chip_get_line(\(offset))", errno)
    }
    return line
}

func gpiodLineRequest(_ line: OpaquePointer, consumer: String, type: Int32, flags: Int32, defaultValue: Int32) throws {
    let rc = consumer.withCString { name -> Int32 in
        var config = gpiod_line_request_config(consumer: name, request_type: type, flags: flags)
        return gpiod_line_request(line, &config, defaultValue)
    }
    if rc < 0 { throw GPIOError.operationFailed("gpiod_line_request(\(gpiod_line_offset(line)))", errno) }
}

func gpiodLineSetValue(_ line: OpaquePointer, _ value: Int32) throws {
    if gpiod_line_set_value(line, value) < 0 {
        throw GPIOError.operationFailed("gpiod_line_set_value(\(gpiod_line_offset(line)))", errno)
    }
}

func gpiodLineGetValue(_ line: OpaquePointer) throws -> Int32 {
    let v = gpiod_line_get_value(line)
    if v < 0 { throw GPIOError.operationFailed("gpiod_line_get_value(\(gpiod_line_offset(line)))", errno) }
    return v
}

func gpiodLineEventGetFD(_ line: OpaquePointer) throws -> Int32 {
    let fd = gpiod_line_event_get_fd(line)
    if fd < 0 { throw GPIOError.operationFailed("gpiod_line_event_get_fd(\(gpiod_line_offset(line)))", errno) }
    return fd
}

func gpiodLineEventReadFD(_ fd: Int32) throws -> gpiod_line_event {
    var event = gpiod_line_event()
    if gpiod_line_event_read_fd(fd, &event) < 0 { throw GPIOError.operationFailed("gpiod_line_event_read_fd", errno) }
    return event
}
