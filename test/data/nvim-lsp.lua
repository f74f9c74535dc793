-- Neovim (Debian 0.7) as the LSP client of `mps-lint server`: open a file, wait for diagnostics,
-- write one line per diagnostic (code, 1-based line, source, witness steps) to $OUT. test/server.test.ts.
local root = vim.env.PROJECT
local id = vim.lsp.start_client({ name = "mps-lint", cmd = { "node", vim.env.CLI, "server" }, root_dir = root })
vim.cmd("edit " .. root .. "/app/engine/sync.py")
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, id)
local ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 100)
local out = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local rel = d.user_data and d.user_data.lsp and d.user_data.lsp.relatedInformation or {}
  table.insert(out, string.format("%s %d %s related=%d", d.code or d.user_data.lsp.code, d.lnum + 1, d.source or "", #rel))
end
local f = io.open(vim.env.OUT, "w"); f:write(table.concat(out, "\n") .. "\n"); f:close()
vim.lsp.stop_client(id)
vim.cmd("qa!")
