import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as GatewayConfig from "../src/GatewayConfig.js"
import * as Router from "../src/Router.js"

describe("Router", () => {
  const route = Router.makeRoute({
    routes: [
      { prefix: "49", connector: "de" },
      { prefix: "4917", connector: "de-mobile" },
      { prefix: "491701", connector: "de-special" },
      { prefix: "+44", connector: "uk" }
    ]
  })

  it("takes the longest matching prefix", () => {
    assert.strictEqual(route("4930123456"), "de")
    assert.strictEqual(route("4917999999"), "de-mobile")
    assert.strictEqual(route("4917012345"), "de-special")
    assert.strictEqual(route("491702"), "de-mobile")
  })

  it("falls back to the default connector, the simulator unless configured", () => {
    assert.strictEqual(route("33612345678"), "simulator")
    assert.strictEqual(route(""), "simulator")
    assert.strictEqual(route("4"), "simulator")
    assert.strictEqual(Router.makeRoute({ routes: [], defaultConnector: "relay" })("49"), "relay")
  })

  it("ignores a leading + on both sides", () => {
    assert.strictEqual(route("+4917999999"), "de-mobile")
    assert.strictEqual(route("447700900123"), "uk")
    assert.strictEqual(route("+447700900123"), "uk")
  })

  it("lets a later route with the same prefix win", () => {
    assert.strictEqual(Router.makeRoute({ routes: [{ prefix: "1", connector: "a" }, { prefix: "1", connector: "b" }] })("123"), "b")
  })

  it.effect("reads its routes from GatewayConfig", () =>
    Effect.gen(function*() {
      const router = yield* Router.Router
      assert.strictEqual(router.route("4917"), "de")
      assert.strictEqual(router.route("33"), "simulator")
      assert.deepStrictEqual(router.connectors(), ["de", "simulator"])
    }).pipe(
      Effect.provide(Router.Router.DefaultWithoutDependencies.pipe(
        Layer.provide(GatewayConfig.layer({ ...GatewayConfig.defaults, routes: [{ prefix: "49", connector: "de" }] }))
      ))
    ))
})
