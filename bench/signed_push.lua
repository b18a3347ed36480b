-- wrk script: every request a fresh signed push (own nonce, own MsgId).
-- Signed queries are made by bench/webhook.py (wrk's Lua has no SHA-1) and read
-- from the file named by WRK_QUERIES; thread i takes every n-th of them.
local threads = {}
local counter = 0

local texts = {"物业费怎么交", "你好", "服务中心几点上班", "门禁卡丢了怎么办", "谢谢",
               "装修垃圾放哪里", "快递放哪了", "停车费多少钱"}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  queries = {}
  local nthreads = tonumber(os.getenv("WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("WRK_QUERIES")) do
    if i % nthreads == id then table.insert(queries, line) end
    i = i + 1
  end
  n = 0
  replied = 0
  base = tonumber(os.getenv("WRK_MSGID_BASE")) + id * 10000000
end

function request()
  n = n + 1
  local query = queries[(n - 1) % #queries + 1]
  local openid = "o_bench_" .. id .. "_" .. (n % 1000)  -- under the per-resident rate limit
  local body = "<xml><ToUserName><![CDATA[gh_wuye_demo]]></ToUserName>" ..
    "<FromUserName><![CDATA[" .. openid .. "]]></FromUserName>" ..
    "<CreateTime>" .. os.time() .. "</CreateTime><MsgType><![CDATA[text]]></MsgType>" ..
    "<Content><![CDATA[" .. texts[n % #texts + 1] .. "]]></Content>" ..
    "<MsgId>" .. (base + n) .. "</MsgId></xml>"
  return wrk.format("POST", "/wechat?" .. query, {["Content-Type"] = "text/xml"}, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, "<xml>", 1, true) then replied = replied + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("replied") end
  io.write(string.format("REPLIED %d\n", total))
end
