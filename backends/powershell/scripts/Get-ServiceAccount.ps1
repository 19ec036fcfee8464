param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $sam = [string]$p.name + '$'
    $account = Get-ADServiceAccount -Server $p.dc -Filter 'sAMAccountName -eq $sam' -Properties $RunbookServiceAccountProperties
    if (-not $account) { return $null }
    ConvertTo-RunbookServiceAccount $account $p.dc
}
