import Foundation
import XCTest

/// `--help` text against golden files (Tests/Fixtures/help), so a change to what users read is
/// a reviewed change. Regenerate with: for c in "" compress inspect run eval verify profile sample-plans evolve-proxy; do
/// .build/release/compress $c --help > Tests/Fixtures/help/${c:-root}.txt; done
final class HelpTests: XCTestCase {
    func testHelpMatchesGoldenFiles() throws {
        for command in ["root", "compress", "inspect", "run", "eval", "verify", "profile", "sample-plans", "evolve-proxy"] {
            let result = try runCompress(command == "root" ? ["--help"] : [command, "--help"])
            XCTAssertEqual(result.status, 0)
            let golden = try String(contentsOfFile: Paths.fixture("help/\(command).txt"), encoding: .utf8)
            XCTAssertEqual(result.stdout, golden, "help of \(command) changed; regenerate the golden file if intended")
        }
    }
}
