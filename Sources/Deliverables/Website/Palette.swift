import Foundation

/// A colour as the designs give it (`#rrggbb`), with the WCAG 2 contrast arithmetic the themes use.
public struct Colour: Sendable, Equatable, CustomStringConvertible {
    public let red: Double
    public let green: Double
    public let blue: Double

    public init(red: Double, green: Double, blue: Double) {
        (self.red, self.green, self.blue) = (red, green, blue)
    }

    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(
            red: Double((value >> 16) & 0xFF) / 255, green: Double((value >> 8) & 0xFF) / 255, blue: Double(value & 0xFF) / 255)
    }

    public static let black = Colour(red: 0, green: 0, blue: 0)
    public static let white = Colour(red: 1, green: 1, blue: 1)

    public var description: String {
        func byte(_ value: Double) -> String {
            let byte = Int((min(max(value, 0), 1) * 255).rounded())
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
        return "#" + byte(red) + byte(green) + byte(blue)
    }

    /// WCAG 2 relative luminance.
    public var luminance: Double {
        func channel(_ value: Double) -> Double {
            value <= 0.03928 ? value / 12.92 : Foundation.pow((value + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    }

    /// The WCAG 2 contrast ratio between two colours, from 1 to 21.
    public func contrast(with other: Colour) -> Double {
        let (light, dark) = (max(luminance, other.luminance), min(luminance, other.luminance))
        return (light + 0.05) / (dark + 0.05)
    }

    /// Black or white, whichever reads better on this colour (always at least 4.58:1).
    public var readableText: Colour {
        contrast(with: .white) >= contrast(with: .black) ? .white : .black
    }

    /// This colour moved towards black or white (away from `background`) until it reaches `ratio` against it.
    public func readable(on background: Colour, ratio: Double = 4.5) -> Colour {
        let target = background.readableText
        var colour = self
        var step = 0.0
        while colour.contrast(with: background) < ratio && step < 1 {
            step += 0.05
            colour = Colour(
                red: red + (target.red - red) * step, green: green + (target.green - green) * step,
                blue: blue + (target.blue - blue) * step)
        }
        return colour.contrast(with: background) >= ratio ? colour : target
    }
}

/// The colours a site uses, from the approved design, each pair that carries text adjusted to at least 4.5:1.
public struct SitePalette: Sendable, Equatable {
    public let background: Colour
    public let text: Colour
    public let link: Colour
    public let header: Colour
    public let headerText: Colour
    public let accent: Colour
    public let accentText: Colour
    public let footer: Colour
    public let footerText: Colour

    public init(primary: Colour, secondary: Colour, accent: Colour, background: Colour, text: Colour) {
        self.background = background
        self.text = text.readable(on: background)
        link = primary.readable(on: background)
        header = primary
        headerText = primary.readableText
        self.accent = accent
        accentText = accent.readableText
        footer = secondary
        footerText = secondary.readableText
    }

    /// Every pair of text and background colour the themes put together.
    public var textPairs: [(name: String, text: Colour, background: Colour)] {
        [
            ("body text", text, background), ("links", link, background), ("header", headerText, header),
            ("buttons", accentText, accent), ("footer", footerText, footer),
        ]
    }
}
