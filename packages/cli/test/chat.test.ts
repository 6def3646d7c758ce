/**
 * `dtt testbed` and two `dtt chat` processes: the chats find each other through the testbed (a private DHT on
 * loopback) and exchange lines typed on stdin. Ctrl-C stops the testbed; end of input ends a chat.
 */
import { describe, expect, it } from "vitest"
import { processes } from "./support/dtt.js"

const { run, testbed: startTestbed } = processes()

describe("dtt testbed + dtt chat", () => {
  it("two chats on a testbed exchange a line both ways, then leave; the testbed stops on SIGINT", async () => {
    const { bootstrap, testbed } = await startTestbed(10)
    // The secret of one comes from the environment, as the help recommends.
    const alice = run(["chat", "--topic", "dtt-cli-chat-test", "--bootstrap", bootstrap, "--name", "alice"], {
      DTT_SECRET: "chat-test-secret"
    })
    const bob = run([
      "chat",
      "--topic",
      "dtt-cli-chat-test",
      "--secret",
      "chat-test-secret",
      "--bootstrap",
      bootstrap
    ])
    await Promise.all([alice.waitFor(/^\* joined/, 25_000), bob.waitFor(/^\* joined/, 25_000)])

    alice.send("hello from alice")
    // Shown with the first 8 hex digits of the endpoint it came through, then the payload (name prefix included).
    await bob.waitFor(/^\[[0-9a-f]{8}\] alice: hello from alice$/, 10_000)
    // Whatever a peer sends is shown as one line with control characters neutralised (here an ESC sequence that
    // would clear the receiver's screen, and a backspace that would let a line rewrite itself).
    alice.send("\u001b[2Jgotcha\bfake")
    await bob.waitFor(/^\[[0-9a-f]{8}\] alice: \ufffd\[2Jgotcha\ufffdfake$/, 10_000)
    expect(bob.stdout()).not.toContain("\u001b")
    bob.send("hi alice")
    await alice.waitFor(/^\[[0-9a-f]{8}\] hi alice$/, 10_000)

    // End of input: each chat leaves and exits 0.
    alice.child.stdin.end()
    bob.child.stdin.end()
    const [a, b] = await Promise.all([alice.exited(10_000), bob.exited(10_000)])
    expect([a, b]).toEqual([0, 0])
    expect(alice.stdout()).toContain("* leaving")

    testbed.child.kill("SIGINT")
    expect(await testbed.exited(10_000)).toBe(130)
  }, 60_000)

  it(
    "input piped then closed (printf 'x\\n' | dtt chat): the line reaches a peer already in the topic before exit",
    async () => {
      const { bootstrap, testbed } = await startTestbed(10)
      const args = ["chat", "--topic", "dtt-cli-chat-piped", "--secret", "piped-secret", "--bootstrap", bootstrap]
      // Alice stays: her stdin remains open.
      const alice = run(args)
      await alice.waitFor(/^joining topic "dtt-cli-chat-piped"/, 15_000)
      // Bob's whole input is one line and the end of input, there before he has found anyone.
      const bob = run([...args, "--name", "bob"])
      bob.send("piped and gone")
      bob.child.stdin.end()
      expect(await bob.exited(30_000)).toBe(0)
      expect(bob.stdout()).toContain("* leaving")
      await alice.waitFor(/^\[[0-9a-f]{8}\] bob: piped and gone$/, 5_000)
      testbed.child.kill("SIGINT")
      alice.child.kill("SIGINT")
      expect(await Promise.all([testbed.exited(10_000), alice.exited(10_000)])).toEqual([130, 130])
    },
    60_000
  )

  it("a line typed before anyone else is on the topic goes out once a neighbour is up", async () => {
    const { bootstrap, testbed } = await startTestbed(10)
    const args = ["chat", "--topic", "dtt-cli-chat-early", "--secret", "early-secret", "--bootstrap", bootstrap]
    const alice = run(args)
    await alice.waitFor(/^joining topic "dtt-cli-chat-early" as [0-9a-f]{8} via private DHT /, 15_000)
    alice.send("early bird")
    await alice.waitFor(/^\* not joined yet; the line goes out once a neighbour is up$/, 10_000)
    const bob = run(args)
    await bob.waitFor(/^\[[0-9a-f]{8}\] early bird$/, 25_000)
    testbed.child.kill("SIGINT")
    alice.child.kill("SIGINT")
    bob.child.kill("SIGINT")
    expect(await Promise.all([testbed.exited(10_000), alice.exited(10_000), bob.exited(10_000)])).toEqual([
      130,
      130,
      130
    ])
  }, 60_000)
})
