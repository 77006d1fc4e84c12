import { assert, describe, it } from "@effect/vitest"
import * as BceAuth from "../src/BceAuth.js"

// Official vectors from qianfan.md §3.2: (a) bce-sdk-js unit test, (b) the BOS doc example, (c) derived.
const jsTime = 1402639056 * 1000
const docTime = Date.UTC(2015, 3, 27, 8, 23, 49)
const docCredentials = { accessKeyId: "a".repeat(32), secretAccessKey: "b".repeat(32) }

describe("BceAuth official vectors", () => {
  it("(a) case 1: PUT with null/empty params, x-bce-meta header signed, abc not", () => {
    const out = BceAuth.authorization(
      {
        method: "PUT",
        path: "/v1/bucket/object1",
        query: "A&b=&C=d",
        headers: { host: "bce.baidu.com", abc: "123", "x-bce-meta-key1": "ABC" }
      },
      { accessKeyId: "my_ak", secretAccessKey: "my_sk" },
      jsTime
    )
    assert.strictEqual(out.signingKey, "b358d27f22640783b887965f17e6cf57ce5b44e3e44ed171a934df6daff52a7c")
    assert.strictEqual(
      out.canonicalRequest,
      "PUT\n/v1/bucket/object1\nA=&C=d&b=\nhost:bce.baidu.com\nx-bce-meta-key1:ABC"
    )
    assert.strictEqual(
      out.authorization,
      "bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800/host;x-bce-meta-key1/80c9672aca2ea9af4bb40b9a8ff458d72df94e97d550840727f3a929af271d25"
    )
  })

  it("(a) case 2: DELETE with content headers, user-agent not signed", () => {
    const out = BceAuth.authorization(
      {
        method: "DELETE",
        path: "/v1/test-bucket1361199862",
        query: "",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "content-length": "0",
          "user-agent": "This is the user-agent"
        }
      },
      { accessKeyId: "my_ak", secretAccessKey: "my_sk" },
      jsTime,
      { expirationSeconds: 1800 }
    )
    assert.strictEqual(
      out.canonicalRequest,
      "DELETE\n/v1/test-bucket1361199862\n\ncontent-length:0\ncontent-type:application%2Fjson%3B%20charset%3Dutf-8"
    )
    assert.strictEqual(
      out.authorization,
      "bce-auth-v1/my_ak/2014-06-13T05:57:36Z/1800/content-length;content-type/c9386b15d585960ae5e6972f73ed92a9a682dc81025480ba5b41206d3e489822"
    )
  })

  const docInput: BceAuth.BceInput = {
    method: "PUT",
    path: "/v1/test/myfolder/readme.txt",
    query: "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851",
    headers: {
      host: "bj.bcebos.com",
      date: "Mon, 27 Apr 2015 16:23:49 +0800",
      "content-type": "text/plain",
      "content-length": "8",
      "content-md5": "NFzcPqhviddjRNnSOGo4rw==",
      "x-bce-date": "2015-04-27T08:23:49Z"
    }
  }

  it("(b) BOS doc example: default headers, `//` form accepted", () => {
    const out = BceAuth.authorization(docInput, docCredentials, docTime)
    assert.strictEqual(out.signingKey, "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479")
    assert.strictEqual(
      out.canonicalRequest,
      "PUT\n/v1/test/myfolder/readme.txt\npartNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\ncontent-length:8\ncontent-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\ncontent-type:text%2Fplain\nhost:bj.bcebos.com\nx-bce-date:2015-04-27T08%3A23%3A49Z"
    )
    const signature = out.authorization.split("/").pop()!
    assert.strictEqual(signature, "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e")
    const official =
      "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800//d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
    const parsed = BceAuth.parseAuthorization(official)!
    assert.deepStrictEqual(parsed.signedHeaders, [])
    assert.isTrue(BceAuth.signatureMatches(docInput, parsed, docCredentials.secretAccessKey))
  })

  it("(b) variant signing only host;x-bce-date", () => {
    const out = BceAuth.authorization(
      { ...docInput, headers: { host: "bj.bcebos.com", "x-bce-date": "2015-04-27T08:23:49Z" } },
      docCredentials,
      docTime,
      { headersToSign: ["host"] }
    )
    assert.isTrue(
      out.authorization.endsWith("/host;x-bce-date/1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32")
    )
  })

  it("(c) derived Qianfan vector", () => {
    const out = BceAuth.authorization(
      {
        method: "POST",
        path: "/v2/batchinference",
        query: "Action=DescribeBatchInferenceTask",
        headers: {
          host: "qianfan.baidubce.com",
          "content-type": "application/json",
          "x-bce-date": "2015-04-27T08:23:49Z"
        }
      },
      docCredentials,
      docTime
    )
    assert.strictEqual(
      out.canonicalRequest,
      "POST\n/v2/batchinference\nAction=DescribeBatchInferenceTask\ncontent-type:application%2Fjson\nhost:qianfan.baidubce.com\nx-bce-date:2015-04-27T08%3A23%3A49Z"
    )
    assert.strictEqual(
      out.authorization,
      "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/content-type;host;x-bce-date/827dd64187759f6eff2f59c92679d4aaf3521b651f28534b548377fd560dafa1"
    )
    console.log("bce: 5 official vectors (a1, a2, b, b-variant, c)")
  })

  it("encoding helpers match the JS SDK's assertions", () => {
    assert.strictEqual(BceAuth.canonicalQuery("A=A&B&C="), "A=A&B=&C=")
    assert.strictEqual(BceAuth.canonicalUri("/example/%E6%B5%8B%E8%AF%95"), "/example/%E6%B5%8B%E8%AF%95")
    assert.strictEqual(BceAuth.canonicalUri("/example/测试"), "/example/%E6%B5%8B%E8%AF%95")
    const { canonical, signedHeaders } = BceAuth.canonicalHeaders({
      Host: "localhost",
      "x-bce-a": "a/b:c",
      C: "",
      "Content-MD5": "MD5"
    })
    assert.strictEqual(canonical, "content-md5:MD5\nhost:localhost\nx-bce-a:a%2Fb%3Ac")
    assert.deepStrictEqual(signedHeaders, ["content-md5", "host", "x-bce-a"])
  })
})
