"""Dev tooling, not product code: emulator worlds (moto), deploy-through-mocks, the pack client, the demo.

The only package that imports an emulator. Nothing in cis_monitoring, components, policy or
rollout imports it (a test walks the imports)."""
