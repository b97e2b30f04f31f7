import Foundation
import GuesthouseContainers
import GuesthouseCore
import Libvirt
import Testing

/// A container's console through libvirt (the stream the web UI's container console page joins to
/// its websocket): what the container's init wrote arrives, and the console ends when the container stops.
@Suite(.serialized) struct ContainerConsoleTests {
    static let vnis = [221]
    static let bridge = "ghtcc{vni}"

    @Test func theConsoleShowsWhatTheInitWroteAndEndsWhenTheContainerStops() async throws {
        let loop = LibvirtEventLoop()
        loop.start()
        defer { loop.stop() }
        let lab = try ContainerHarness(ids: [2201], vnis: Self.vnis, bridge: Self.bridge, makeBridges: [221])
        defer { lab.close() }
        _ = try await lab.service.create(ContainerSpec(id: 2201, ip: "198.18.221.5/24", vlan: 221))
        let console = try await lab.service.openConsole(id: 2201)
        let reader = Task { () -> String in
            var text = ""
            for await chunk in console.output { text += String(decoding: chunk, as: UTF8.self) }
            return text  // the loop ends when the console does
        }
        // The console ends with the container.
        try await lab.service.stop(id: 2201)
        let ended = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { await reader.value }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let text = try #require(ended, "the console did not end with the container")
        // What the init wrote on its console (the pty kept it until the stream read it).
        #expect(text.contains("container2201 started"), "console: \(text)")
        await console.close()
        // A stopped container has no console to open.
        await #expect(throws: GuesthouseError.self) { try await lab.service.openConsole(id: 2201) }
        await #expect(throws: GuesthouseError.self) { try await lab.service.openConsole(id: 2299) }
    }
}
