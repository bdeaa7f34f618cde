// The npm reference implementations of ERC-4361 (`siwe` 3) and ERC-5573 (`siwe-recap`), driven by
// tests/npm_round_trip.rs. Reads one JSON request on stdin, writes one JSON answer on stdout.
//   {"check": {message, signature}}: parse, verify the signature, extract and verify the ReCap.
//   {"make": {privateKey, sessionKey, domain, chainId, expirationTime}}: a capability of theirs.
'use strict';
const { SiweMessage } = require('siwe');
const { Recap } = require('siwe-recap');
const { Wallet } = require('ethers');

async function check({ message, signature }) {
  const siwe = new SiweMessage(message);
  const verified = await siwe.verify({ signature }, { suppressExceptions: true });
  const recap = Recap.extract_and_verify(siwe);
  return {
    verified: verified.success,
    error: verified.error ? String(verified.error.type) : null,
    address: siwe.address,
    uri: siwe.uri,
    reprinted: siwe.prepareMessage() === message,
    attenuations: recap.attenuations,
    recapStatement: recap.statement,
  };
}

async function make({ privateKey, sessionKey, domain, chainId, expirationTime }) {
  const wallet = new Wallet(privateKey);
  const recap = new Recap();
  recap.addAttenuation('https://' + domain + '/orders/*', 'http', 'POST');
  recap.addAttenuation('litAction://*', 'lit-action-execution', '*');
  recap.addAttenuation('litPKP://0x1234', 'pkp-signing', '*', { limit: 3 });
  let siwe = new SiweMessage({
    domain,
    address: wallet.address,
    statement: 'Sign a session key to use with this API.',
    uri: `did:pkh:eip155:${chainId}:${sessionKey}`,
    version: '1',
    chainId,
    nonce: 'npmnonce12',
    issuedAt: new Date().toISOString(),
    expirationTime,
  });
  siwe = recap.add_to_siwe_message(siwe);
  const message = siwe.prepareMessage();
  return { message, signature: await wallet.signMessage(message), attenuations: recap.attenuations };
}

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const request = JSON.parse(input);
  const answer = request.check ? await check(request.check) : await make(request.make);
  process.stdout.write(JSON.stringify(answer));
});
