/**
 * An async iterator over one core `Receiver`: its own cursor on the topic's event buffer, created when the
 * iterator is, so nothing published after `messages()`/`events()` returns is missed. It ends when the topic
 * closes (after what was already buffered), or when the caller stops (`break`, `return()`), which releases
 * the receiver.
 */
import type { Topic as CoreTopic } from "@dtt/core"
import { Effect, ExecutionStrategy, Exit, Scope } from "effect"
import { runSync } from "./run.js"

export class ReceiverIterator<T> implements AsyncIterableIterator<T> {
  readonly #receiver: CoreTopic.Receiver
  readonly #scope: Scope.CloseableScope
  readonly #map: (event: CoreTopic.TopicEvent) => T | undefined
  #done = false
  /** `next()` calls are served one after the other, as the async-iterator protocol expects. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(
    topic: CoreTopic.Topic,
    parent: Scope.Scope,
    map: (event: CoreTopic.TopicEvent) => T | undefined
  ) {
    this.#map = map
    // A child of the topic's scope: closing the topic releases every iterator's receiver too.
    this.#scope = runSync(Scope.fork(parent, ExecutionStrategy.sequential))
    this.#receiver = runSync(Scope.extend(topic.receiver, this.#scope))
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const result = this.#queue.then(() => this.#pull())
    this.#queue = result.catch(() => undefined)
    return result
  }

  async #pull(): Promise<IteratorResult<T, undefined>> {
    while (!this.#done) {
      // `next` fails only with TopicClosed (topic closed and buffer drained, or this receiver released).
      const exit = await Effect.runPromiseExit(this.#receiver.next)
      if (Exit.isFailure(exit)) break
      const value = this.#map(exit.value)
      if (value !== undefined) return { done: false, value }
    }
    await this.return()
    return { done: true, value: undefined }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    if (!this.#done) {
      this.#done = true
      await Effect.runPromise(Scope.close(this.#scope, Exit.void))
    }
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
