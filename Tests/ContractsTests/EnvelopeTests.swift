import Contracts
import Foundation
import Testing

struct Greeting: Event {
    static let type = "test.greeting.v1"
    var text: String
}

@Suite struct EnvelopeTests {
    @Test func roundTripsWithSortedKeysAndISODates() throws {
        let envelope = Envelope(
            id: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!,
            type: Greeting.type,
            occurredAt: Date(timeIntervalSince1970: 1_800_000_000.25),
            correlationID: "corr-1",
            causationID: nil,
            idempotencyKey: "key-1",
            payload: Greeting(text: "hi")
        )
        let coder = MessageCoder()
        let data = try coder.encode(envelope)
        let text = String(decoding: data, as: UTF8.self)
        #expect(
            text
                == #"{"correlationID":"corr-1","id":"00000000-0000-0000-0000-000000000001","idempotencyKey":"key-1","occurredAt":"2027-01-15T08:00:00.250Z","payload":{"text":"hi"},"type":"test.greeting.v1"}"#
        )
        let decoded = try coder.decode(Envelope<Greeting>.self, from: data)
        #expect(decoded.payload.text == "hi")
        #expect(decoded.occurredAt == envelope.occurredAt)
        let header = try coder.decode(EnvelopeHeader.self, from: data)
        #expect(header.type == Greeting.type)
    }

    @Test func wrapsAPayloadWithItsOwnType() {
        let envelope = Envelope(Greeting(text: "x"), correlationID: "c")
        #expect(envelope.type == "test.greeting.v1")
    }

    @Test func acceptsDatesWithoutFractionalSecondsAndRejectsOthersClearly() throws {
        let coder = MessageCoder()
        let plain = Data(
            #"{"id":"00000000-0000-0000-0000-000000000001","type":"t","occurredAt":"2026-01-31T12:00:00Z","correlationID":"c"}"#.utf8)
        #expect(try coder.decode(EnvelopeHeader.self, from: plain).occurredAt == Date(timeIntervalSince1970: 1_769_860_800))
        let bad = Data(#"{"id":"00000000-0000-0000-0000-000000000001","type":"t","occurredAt":"yesterday","correlationID":"c"}"#.utf8)
        let error = #expect(throws: DecodingError.self) { try coder.decode(EnvelopeHeader.self, from: bad) }
        #expect("\(String(describing: error))".contains("ISO-8601"))
    }
}
