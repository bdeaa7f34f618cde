// The official Wallet API client, @alchemy/wallet-apis 5.x, unchanged, against `leash serve`.
//
// Run by crates/server/tests/official_client.rs with one argument, a JSON object:
//   {url, chainId, ownerKey, token, recipients: {owner, root, erc20},
//    amounts: {owner, root, allowance, within, beyond} (decimal strings)}
// It drives the client's own flows and prints one line of JSON, the summary the Rust test
// asserts on. Any failure prints {"ok": false, "step", "error"} and exits 1; every wait is bounded.

import { alchemyWalletTransport, createSmartWalletClient } from "@alchemy/wallet-apis";
import { defineChain, encodeFunctionData, erc20Abi } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const WAIT = { pollingInterval: 50, timeout: 10_000 };
// The whole script: a hung request must not hang the test.
const GUARD_MS = 45_000;

const config = JSON.parse(process.argv[2] ?? "{}");
const summary = { ok: false, clientVersion: null, steps: {} };
let step = "setup";

const guard = setTimeout(() => fail(new Error(`timed out after ${GUARD_MS} ms`)), GUARD_MS);

function fail(error) {
  const details = {
    name: error?.name,
    message: error?.shortMessage ?? error?.message,
    details: error?.details,
    code: findCode(error),
  };
  console.log(JSON.stringify({ ...summary, ok: false, step, error: details }));
  process.exit(1);
}

// viem wraps the JSON-RPC error: the code is on the error or somewhere down its causes.
function findCode(error) {
  for (let e = error; e; e = e.cause) {
    if (typeof e.code === "number") return e.code;
  }
  return undefined;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const chain = defineChain({
  id: config.chainId,
  name: "leash dev",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [config.url] } },
});
const transport = alchemyWalletTransport({ url: config.url });
const owner = privateKeyToAccount(config.ownerKey);

function transfer(to, amount) {
  return {
    to: config.token,
    data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, amount] }),
  };
}

async function waitForSuccess(client, id) {
  const result = await client.waitForCallsStatus({ id, ...WAIT });
  check(result.status === "success", `calls ${id}: status ${result.status} (${result.statusCode})`);
  check(result.receipts?.[0]?.status === "success", `calls ${id}: receipt ${result.receipts?.[0]?.status}`);
  return { id, status: result.status, statusCode: result.statusCode, receipts: result.receipts.length };
}

// A client for a session key: the session key signs, the account stays the owner's.
function sessionClient(key) {
  return createSmartWalletClient({ transport, chain, signer: key, account: owner.address });
}

async function run() {
  const { default: pkg } = await import("@alchemy/wallet-apis/package.json", { with: { type: "json" } });
  summary.clientVersion = pkg.version;

  // The owner's client: no account given, so it is the signer's own address (EIP-7702).
  const ownerClient = createSmartWalletClient({ transport, chain, signer: owner });

  step = "getCapabilities";
  const capabilities = await ownerClient.getCapabilities();
  check(capabilities.permissions?.supported === true, `capabilities: ${JSON.stringify(capabilities)}`);
  summary.steps.capabilities = { permissionTypes: capabilities.permissions.permissionTypes };

  // Delegation: the client's 7702 flow. Its first sendCalls from the EOA prepares, signs with the
  // owner and sends; an account already delegated gets a single user operation back (leash
  // serve's dev accounts are delegated at start), an undelegated one would need `array`.
  step = "delegation";
  const ownerCalls = await ownerClient.sendCalls({ calls: [transfer(config.recipients.owner, BigInt(config.amounts.owner))] });
  summary.steps.delegation = await waitForSuccess(ownerClient, ownerCalls.id);

  // A root session, driven step by step: prepareCalls, signPreparedCalls, sendPreparedCalls.
  step = "root session: grantPermissions";
  const rootKey = privateKeyToAccount(generatePrivateKey());
  const rootGrant = await ownerClient.grantPermissions({
    key: { publicKey: rootKey.address, type: "secp256k1" },
    permissions: [{ type: "root" }],
  });
  check(/^0x00[0-9a-f]{32}[0-9a-f]{130}$/i.test(rootGrant.context), `context ${rootGrant.context}`);
  const rootClient = sessionClient(rootKey);
  const rootPermissions = { permissions: rootGrant };
  step = "root session: prepareCalls";
  const prepared = await rootClient.prepareCalls({
    calls: [transfer(config.recipients.root, BigInt(config.amounts.root))],
    capabilities: rootPermissions,
  });
  check(prepared.type === "user-operation-v070", `prepared type ${prepared.type}`);
  step = "root session: signPreparedCalls";
  const signed = await rootClient.signPreparedCalls(prepared);
  step = "root session: sendPreparedCalls";
  const rootSent = await rootClient.sendPreparedCalls({ ...signed, capabilities: rootPermissions });
  step = "root session: waitForCallsStatus";
  summary.steps.root = {
    type: prepared.type,
    feePayment: { sponsored: prepared.feePayment.sponsored },
    ...(await waitForSuccess(rootClient, rootSent.id)),
  };

  // An ERC-20 session: a spend within its allowance goes through, one beyond it is refused.
  step = "erc20 session: grantPermissions";
  const tokenKey = privateKeyToAccount(generatePrivateKey());
  const allowance = BigInt(config.amounts.allowance);
  const tokenGrant = await ownerClient.grantPermissions({
    key: { publicKey: tokenKey.address, type: "secp256k1" },
    permissions: [{ type: "erc20-token-transfer", data: { address: config.token, allowance } }],
  });
  const tokenClient = sessionClient(tokenKey);
  const tokenPermissions = { permissions: tokenGrant };
  step = "erc20 session: sendCalls within the allowance";
  const within = BigInt(config.amounts.within);
  const tokenSent = await tokenClient.sendCalls({
    calls: [transfer(config.recipients.erc20, within)],
    capabilities: tokenPermissions,
  });
  summary.steps.erc20Within = {
    amount: within.toString(),
    ...(await waitForSuccess(tokenClient, tokenSent.id)),
  };

  step = "erc20 session: sendCalls beyond the allowance";
  const beyond = BigInt(config.amounts.beyond);
  let refusal = null;
  try {
    const sent = await tokenClient.sendCalls({
      calls: [transfer(config.recipients.erc20, beyond)],
      capabilities: tokenPermissions,
    });
    refusal = { sent: sent.id };
  } catch (error) {
    refusal = {
      name: error.name,
      code: findCode(error),
      details: error.details,
      message: error.shortMessage,
    };
  }
  check(refusal.sent === undefined, `a spend beyond the allowance was sent: ${refusal.sent}`);
  summary.steps.erc20Beyond = { amount: beyond.toString(), ...refusal };

  step = "done";
  summary.ok = true;
}

run()
  .then(() => {
    clearTimeout(guard);
    console.log(JSON.stringify(summary));
  })
  .catch(fail);
