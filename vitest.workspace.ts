export default ["packages/schema", "packages/runtime", "apps/gateway"]
