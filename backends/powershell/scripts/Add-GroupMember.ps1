# Idempotent: a computer already in the group is left as it is (Add-ADGroupMember would refuse it).
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $group = [string]$p.group
    $member = [string]$p.member
    $present = @(Get-ADGroupMember -Identity $group -Server $p.dc | Where-Object { $_.SamAccountName -eq $member })
    if ($present.Count -eq 0) { Add-ADGroupMember -Identity $group -Members $member -Server $p.dc }
    $true
}
