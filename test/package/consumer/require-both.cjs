// A consumer's plain CommonJS file: require() of both entry points of the installed package,
// '.' and './redis', as Node 20.19+ and 22.12+ allow for an ES module (require(esm)).
'use strict';
const lightws = require('lightws');
const { redisTopics } = require('lightws/redis');
// The same module instance as import() would give: the server redisTopics accepts is a lightws one.
const server = lightws.createServer({ logLevel: 'silent' });
if (typeof server.attachBridge !== 'function') throw new Error('not a lightws server');
console.log(
  `require ok: lightws createServer ${typeof lightws.createServer}, lightws/redis redisTopics ${typeof redisTopics}`,
);
