# klist -li 0x3e7 purge: the computer account (SYSTEM) gets a new TGT carrying its current group memberships.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    Invoke-Command -ComputerName ([string]$p.host) -ScriptBlock {
        $null = & "$env:SystemRoot\System32\klist.exe" -li 0x3e7 purge
        if ($LASTEXITCODE -ne 0) { throw [System.InvalidOperationException]::new("klist purge failed with exit code $LASTEXITCODE") }
        $true
    }
}
