param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    @(Get-ADGroupMember -Identity ([string]$p.group) -Server $p.dc | ForEach-Object { $_.SamAccountName } | Sort-Object)
}
