// MARK: - TZif file

/// The parts of a TZif file (RFC 8536, versions 1 to 4) that determine UTC offsets.
///
/// Parsing never traps: every read is bounds-checked and any violation of the format gives nil.
/// Files with leap-second records (the "right/" zones) are refused, because their timestamps count
/// leap seconds and would place every transition some seconds late on Unix time.
struct TZifFile: Sendable, Equatable {
    /// One local time type record ("ttinfo").
    struct LocalTimeType: Sendable, Equatable {
        /// Seconds east of UTC.
        var utcOffset: Int32
        var isDST: Bool
        /// Index of the abbreviation in the designation bytes (kept for completeness; unused).
        var designationIndex: UInt8
    }

    /// 1 for version-1 files (version byte NUL), else the digit of the version byte.
    var version: Int
    /// Unix seconds, strictly ascending.
    var transitionTimes: [Int64]
    /// For each transition, an index into `localTimeTypes`.
    var transitionTypes: [UInt8]
    /// At least one entry.
    var localTimeTypes: [LocalTimeType]
    /// The rule after the last transition, from the footer of version 2+ files; nil when the file
    /// is version 1 or the footer is empty.
    var footer: POSIXTZRule?

    init?(bytes: [UInt8]) {
        var reader = TZifReader(bytes: bytes)
        guard let header = TZifHeader(&reader) else { return nil }
        let block: TZifDataBlock
        if header.version == 1 {
            guard let v1 = TZifDataBlock(&reader, header: header, timeSize: 4) else { return nil }
            block = v1
            footer = nil
        } else {
            // Version 2+ repeats everything with 64-bit times after the 32-bit block; only the
            // second copy covers all instants, so the first is skipped unread.
            guard reader.skip(header.dataBlockLength(timeSize: 4)),
                  let header64 = TZifHeader(&reader), header64.version >= 2,
                  let v2 = TZifDataBlock(&reader, header: header64, timeSize: 8),
                  let text = reader.footer()
            else { return nil }
            block = v2
            if text.isEmpty {
                footer = nil
            } else {
                guard let rule = POSIXTZRule(ascii: text) else { return nil }
                footer = rule
            }
        }
        version = header.version
        transitionTimes = block.times
        transitionTypes = block.typeIndices
        localTimeTypes = block.types
    }
}

/// The fixed 44-byte header that precedes each data block.
struct TZifHeader {
    var version: Int
    var isUTCCount: Int
    var isStandardCount: Int
    var leapCount: Int
    var timeCount: Int
    var typeCount: Int
    var charCount: Int

    init?(_ reader: inout TZifReader) {
        guard let magic = reader.take(4), magic.elementsEqual("TZif".utf8),
              let versionByte = reader.byte(),
              reader.skip(15)  // reserved
        else { return nil }
        switch versionByte {
        case 0: version = 1
        case UInt8(ascii: "2")...UInt8(ascii: "9"): version = Int(versionByte - UInt8(ascii: "0"))
        default: return nil
        }
        var counts: [Int] = []
        for _ in 0..<6 {
            // A count larger than the whole file cannot be honest; refusing it here also keeps
            // the block-length arithmetic far from overflow.
            guard let count = reader.uint32(), Int(count) <= reader.bytes.count else { return nil }
            counts.append(Int(count))
        }
        (isUTCCount, isStandardCount, leapCount) = (counts[0], counts[1], counts[2])
        (timeCount, typeCount, charCount) = (counts[3], counts[4], counts[5])
    }

    /// Length in bytes of the data block this header describes.
    func dataBlockLength(timeSize: Int) -> Int {
        timeCount * timeSize + timeCount + typeCount * 6 + charCount
            + leapCount * (timeSize + 4) + isStandardCount + isUTCCount
    }
}

/// One data block: transitions and local time types, validated against RFC 8536.
struct TZifDataBlock {
    var times: [Int64] = []
    var typeIndices: [UInt8] = []
    var types: [TZifFile.LocalTimeType] = []

    init?(_ reader: inout TZifReader, header: TZifHeader, timeSize: Int) {
        guard header.typeCount >= 1,
              header.isUTCCount == 0 || header.isUTCCount == header.typeCount,
              header.isStandardCount == 0 || header.isStandardCount == header.typeCount,
              header.leapCount == 0,
              reader.remaining >= header.dataBlockLength(timeSize: timeSize)
        else { return nil }

        times.reserveCapacity(header.timeCount)
        for _ in 0..<header.timeCount {
            guard let time = timeSize == 8 ? reader.int64() : reader.int32().map(Int64.init),
                  times.last.map({ $0 < time }) ?? true  // strictly ascending, so binary search works
            else { return nil }
            times.append(time)
        }
        guard let indices = reader.take(header.timeCount),
              indices.allSatisfy({ Int($0) < header.typeCount })
        else { return nil }
        typeIndices = Array(indices)

        types.reserveCapacity(header.typeCount)
        for _ in 0..<header.typeCount {
            guard let utcOffset = reader.int32(), utcOffset != .min,  // -2^31 is forbidden
                  let isDST = reader.byte(), isDST <= 1,
                  let designation = reader.byte(), Int(designation) < header.charCount
            else { return nil }
            types.append(.init(utcOffset: utcOffset, isDST: isDST == 1, designationIndex: designation))
        }
        // Abbreviations, leap seconds (none), standard/wall and UT/local indicators: not needed,
        // the indicators only matter for POSIX strings without rules, which TZif never relies on.
        guard reader.skip(header.charCount + header.leapCount * (timeSize + 4)
                          + header.isStandardCount + header.isUTCCount)
        else { return nil }
    }
}

/// A bounds-checked big-endian cursor over the file's bytes.
struct TZifReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, count <= remaining else { return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func skip(_ count: Int) -> Bool { take(count) != nil }

    mutating func byte() -> UInt8? { take(1)?.first }

    mutating func uint32() -> UInt32? {
        take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } }
    }

    mutating func int32() -> Int32? { uint32().map { Int32(bitPattern: $0) } }

    mutating func int64() -> Int64? {
        take(8).map { Int64(bitPattern: $0.reduce(0) { $0 << 8 | UInt64($1) }) }
    }

    /// The text between the newlines that enclose the footer; nil when either is missing.
    mutating func footer() -> [UInt8]? {
        guard byte() == UInt8(ascii: "\n"),
              let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n"))
        else { return nil }
        defer { position = end + 1 }
        return Array(bytes[position..<end])
    }
}
