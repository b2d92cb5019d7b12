import Foundation
import ZIPFoundation

/// Writes ZIP archives whose bytes depend only on their entries: fixed timestamps and the order given, so building
/// the same content twice gives the same sha256.
public enum ZipWriter {
    /// The timestamp every entry carries (the ZIP format's dates start in 1980).
    static let timestamp = Date(timeIntervalSince1970: 315_532_800 + 86_400 * 366)

    /// An archive of `files` in the order given; `stored` names the entries kept uncompressed (an EPUB's `mimetype`).
    public static func archive(_ files: [DeliverableFile], stored: Set<String> = []) throws -> Data {
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for file in files {
                let data = file.data
                try archive.addEntry(
                    with: file.path, type: .file, uncompressedSize: Int64(data.count), modificationDate: timestamp,
                    permissions: 0o644, compressionMethod: stored.contains(file.path) ? .none : .deflate
                ) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            guard let data = archive.data else { throw DeliverableError("the archive could not be written") }
            return data
        } catch let error as DeliverableError {
            throw error
        } catch {
            throw DeliverableError("the archive could not be written: \(error)")
        }
    }
}
